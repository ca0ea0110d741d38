"""Run-wide settings for MLflow's server tests under this runner (see README.md)."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import own_target  # noqa: E402

FILE_STORE = "file"


def pytest_configure(config):
    config.addinivalue_line("markers", "allow_infer_pip_requirements_fallback: MLflow's marker")
    config.addinivalue_line("markers", "asyncio: MLflow's marker")
    _copy_migrated_sqlite_schema()
    if own_target.is_mltracker():
        # MLflow's fixtures start MLflow's app in-process on a database that the test process
        # then also uses as its tracking URI; against mltracker there is no in-process app (the
        # server is mltracker) and ServerThread points the test process at mltracker instead.
        import mlflow.server.handlers as handlers

        handlers.initialize_backend_stores = lambda *args, **kwargs: None


def _copy_migrated_sqlite_schema():
    """MLflow's fixtures migrate a fresh SQLite database for every test (seconds each on a loaded
    machine); a fresh database gets a copy of one migrated once instead: the same schema, sooner."""
    import sqlite3
    import tempfile

    import mlflow.store.db.utils as db_utils
    import mlflow.store.model_registry.sqlalchemy_store as registry_store

    original = db_utils._initialize_tables
    template = Path(tempfile.mkdtemp(prefix="own-schema-")) / "mlflow.db"

    def initialize_tables(engine):
        if engine.dialect.name != "sqlite":
            return original(engine)
        if not template.exists():
            import sqlalchemy

            seed = sqlalchemy.create_engine(f"sqlite:///{template}")
            original(seed)
            seed.dispose()
        with engine.connect() as conn:
            source = sqlite3.connect(template)
            try:
                source.backup(conn.connection.driver_connection)
            finally:
                source.close()

    db_utils._initialize_tables = initialize_tables
    registry_store._initialize_tables = initialize_tables


def pytest_collection_modifyitems(config, items):
    """MLflow's FileStore parametrizations are left out: both servers are measured on SQL stores."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        (drop if FILE_STORE in (params.get("store_type"), params.get("client")) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _fresh_client_state(tmp_path, monkeypatch):
    """What MLflow's own conftest does between tests: no tracking URI, run or experiment left over."""
    import mlflow

    monkeypatch.chdir(tmp_path)
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        monkeypatch.delenv(var, raising=False)
    yield
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)
    import mlflow.tracking.fluent as fluent

    fluent._active_experiment_id = None


def pytest_report_header(config):
    return f"OWN_TARGET={own_target.TARGET}"
