"""The backend store made ready for use: by the server at start, and by the commands that write it
(import, webhooks) without loading the web application."""
from __future__ import annotations

from mltracker.service.context import LOCAL_PROJECT_ID
from mltracker.service.db.engine import Database
from mltracker.service.db.migrate import upgrade
from mltracker.service.settings import Settings
from mltracker.service.tracking.experiments import ensure_default_experiment


def prepare_database(db: Database, settings: Settings) -> None:
    """Schema at head, and the local project's Default experiment (id 0, as MLflow clients expect)."""
    upgrade(db)
    if settings.local_mode:
        with db.write() as conn:
            ensure_default_experiment(conn, LOCAL_PROJECT_ID, use_alias_id=True)
