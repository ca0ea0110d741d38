"""Everything the phases of one import share, passed explicitly."""
from __future__ import annotations

from dataclasses import dataclass

from mltracker.service.artifacts.storage import ArtifactStorage
from mltracker.service.db.engine import Database
from mltracker.service.importer.ci_links import CiLinker
from mltracker.service.importer.ledger import Ledger
from mltracker.service.importer.source import SourceClient
from mltracker.service.importer.summary import Summary


@dataclass
class ImportContext:
    source: SourceClient
    db: Database | None  # None in a dry run against a store that does not exist yet
    storage: ArtifactStorage | None
    ledger: Ledger
    project_id: int
    summary: Summary
    linker: CiLinker | None
    dry_run: bool = False
    copy_artifacts: bool = True
