"""How candidates are compared: which way a metric is better, which candidate is best, and what a
pipeline is measured against. The merge request report and the CI quality gate both decide here, so
they cannot judge the same pipeline differently."""
