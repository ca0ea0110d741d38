"""`db_uri` as MLflow's tracking tests use it: a migrated SQLite database of the test's own."""
import shutil

import pytest


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory):
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    path = tmp_path_factory.mktemp("cached_db") / "mlflow.db"
    store = SqlAlchemyStore(f"sqlite:///{path}", path.parent.as_uri())
    store.engine.dispose()
    return path


@pytest.fixture
def db_uri(_migrated_sqlite, tmp_path):
    path = tmp_path / "mlflow.db"
    shutil.copy(_migrated_sqlite, path)
    return f"sqlite:///{path}"
