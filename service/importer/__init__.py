"""`mltracker import mlflow`: copy an MLflow server's (or GitLab's built-in tracker's) history into
the configured store, keeping run ids; idempotent and resumable."""
