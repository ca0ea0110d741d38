"""MLflow 3 evaluation datasets of a project: the dataset, its tags, its records, the experiments
it is linked to, and search."""
