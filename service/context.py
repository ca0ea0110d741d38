"""The services a request handler needs, built once by create_app and passed explicitly."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mltracker.service.db.engine import Database
from mltracker.service.settings import Settings

if TYPE_CHECKING:
    from mltracker.service.artifacts.download_links import LinkSigner
    from mltracker.service.artifacts.storage import ArtifactStorage
    from mltracker.service.registry_webhooks.delivery import DeliveryConfig

# The project that the root paths serve in local mode.
LOCAL_PROJECT_ID = 0


@dataclass
class Services:
    settings: Settings
    db: Database
    artifacts: "ArtifactStorage"
    registry_webhooks: "DeliveryConfig | None" = None
    download_links: "LinkSigner | None" = None


def services() -> Services:
    from flask import current_app  # here: the commands that never serve a request do not load Flask

    return current_app.extensions["mltracker"]


def current_project_id() -> int:
    """The project of this request: /projects/<id>/… or, at the root paths, the local project."""
    from flask import g

    return g.get("project_id", LOCAL_PROJECT_ID)
