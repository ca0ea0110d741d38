"""`mltracker import mlflow SOURCE_TRACKING_URI …`: the command line of the importer.

The target is configured exactly as for `mltracker serve` (--backend-store-uri,
--artifacts-destination, MLTRACKER_* environment); the source's credentials come from the MLflow
client's environment variables (MLFLOW_TRACKING_TOKEN, or _USERNAME and _PASSWORD).
"""
from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

from mltracker.service.settings import settings_from_env


def add_import_command(commands) -> None:
    command = commands.add_parser("import", help="copy history from another tracking server")
    sources = command.add_subparsers()
    mlflow = sources.add_parser(
        "mlflow", help="from an MLflow server or GitLab's built-in tracker (<gitlab>/api/v4/projects/<id>/ml/mlflow)")
    mlflow.add_argument("source", metavar="SOURCE_TRACKING_URI")
    mlflow.add_argument("--experiment", action="append", default=[], metavar="NAME",
                        help="copy only this experiment (repeatable; default: all)")
    mlflow.add_argument("--project", type=int, help="target project id (default: the local project; "
                                                    "required in GitLab mode)")
    mlflow.add_argument("--dry-run", action="store_true", help="list what would be copied or conflict; write nothing")
    mlflow.add_argument("--workers", type=int, default=4, help="runs copied in parallel (default 4)")
    mlflow.add_argument("--since", type=_date_ms, metavar="DATE",
                        help="only runs started at or after DATE (ISO 8601, UTC unless an offset is given)")
    mlflow.add_argument("--no-artifacts", dest="artifacts", action="store_false", help="do not copy artifacts")
    mlflow.add_argument("--models", action=argparse.BooleanOptionalAction, default=True,
                        help="copy logged models and the model registry (default: yes)")
    mlflow.add_argument("--backend-store-uri", help="SQLAlchemy URL (as for mltracker serve)")
    mlflow.add_argument("--artifacts-destination", help="local folder or s3://bucket/prefix (as for mltracker serve)")
    mlflow.set_defaults(handler=run_import_command)


def _date_ms(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def _store_exists(uri: str) -> bool:
    """False for a SQLite file not created yet (a dry run must not create it)."""
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return True
    return os.path.exists(url.database)


def run_import_command(args) -> int:
    from mltracker.service.importer.read_ahead import start_read_ahead
    from mltracker.service.importer.source import SourceClient, SourceError, display_uri

    settings = settings_from_env(backend_store_uri=args.backend_store_uri,
                                 artifacts_destination=args.artifacts_destination)
    if not settings.local_mode and args.project is None:
        print("mltracker import: --project is required in GitLab mode (MLTRACKER_GITLAB_URL is set)", file=sys.stderr)
        return 2
    source = SourceClient(args.source, pool_size=max(4, args.workers * 2))
    if not args.dry_run:
        # the source reads its first histories while the modules below load and the store migrates
        start_read_ahead(source, tuple(args.experiment), args.since, args.workers)

    from mltracker.service.store_setup import prepare_database
    from mltracker.service.artifacts.factory import storage_from_destination
    from mltracker.service.context import LOCAL_PROJECT_ID
    from mltracker.service.db.engine import Database
    from mltracker.service.db.migrate import current_revision, head_revisions
    from mltracker.service.importer.ci_links import CiLinker
    from mltracker.service.importer.context import ImportContext
    from mltracker.service.importer.ledger import Ledger
    from mltracker.service.importer.progress import Progress
    from mltracker.service.importer.runner import ImportOptions, run_import
    from mltracker.service.importer.summary import Summary

    project_id = args.project if args.project is not None else LOCAL_PROJECT_ID
    db = Database.from_settings(settings) if not args.dry_run or _store_exists(settings.backend_store_uri) else None
    try:
        if not args.dry_run:
            prepare_database(db, settings)
        elif db is None:
            pass  # nothing stored yet: everything would be copied
        elif current_revision(db) is None:
            db.dispose()
            db = None  # nothing stored yet: everything would be copied
        elif current_revision(db) != "+".join(sorted(head_revisions())):
            print("mltracker import: the database schema is not current; run `mltracker db upgrade` first",
                  file=sys.stderr)
            return 2
        summary = Summary()
        ctx = ImportContext(
            source=source,
            db=db,
            storage=None if args.dry_run else storage_from_destination(settings.artifacts_destination),
            ledger=Ledger(display_uri(args.source), project_id),
            project_id=project_id,
            summary=summary,
            linker=CiLinker(settings, os.environ.get("MLFLOW_TRACKING_TOKEN")),
            dry_run=args.dry_run,
            copy_artifacts=args.artifacts,
        )
        options = ImportOptions(experiments=tuple(args.experiment), since_ms=args.since,
                                workers=args.workers, models=args.models)
        try:
            run_import(ctx, options, Progress())
        except SourceError as exc:
            summary.failure(f"source: {exc}")
        except KeyboardInterrupt:
            summary.failure("interrupted: run the same command again to resume")
            print(summary.render(dry_run=args.dry_run))
            return 130
        print(summary.render(dry_run=args.dry_run))
        return summary.exit_code()
    finally:
        if db is not None:
            db.dispose()
