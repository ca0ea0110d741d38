"""MLflow's MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES reaches the source rule through Settings."""
from mltracker.service.registry.host_addressed import refusal
from mltracker.service.settings import settings_from_env


def test_the_variable_allows_the_schemes_it_names(monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES", " HTTPS, hdfs ")
    allowed = settings_from_env().allowed_host_addressed_schemes
    assert allowed == frozenset({"https", "hdfs"})
    assert refusal("https://models.example.com/m", "source", allowed) is None
    assert refusal("ftp://files.example.com/m", "source", allowed) is not None


def test_by_default_no_host_naming_scheme_is_allowed(monkeypatch):
    monkeypatch.delenv("MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES", raising=False)
    allowed = settings_from_env().allowed_host_addressed_schemes
    assert allowed == frozenset()
    assert refusal("https://models.example.com/m", "source", allowed) is not None
    assert refusal("s3://bucket/m", "source", allowed) is None
