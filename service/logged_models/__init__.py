"""MLflow 3 logged models: create, read, finalize, delete, tags, params, search."""
