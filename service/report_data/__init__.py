"""What a merge request report is made of, read from the database: the pipeline's candidates, the
baseline's, and the links to them. `reports/` renders it; this package never renders."""
