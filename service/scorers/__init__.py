"""Scorers registered on an experiment (`mlflow.genai.scorers` register/list/get/delete), versioned."""
