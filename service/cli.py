"""The `mltracker` command: serve, worker, gate, doctor, db upgrade."""
from __future__ import annotations

import argparse
import logging
import sys

from mltracker.service.gate.cli import add_gate_command
from mltracker.service.importer.cli import add_import_command
from mltracker.service.settings import settings_from_env
from mltracker.service.webhooks.cli import add_webhook_command


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    return args.handler(args) or 0


WORKER_SETTINGS = """\
Process queued jobs outside the web processes: MLflow registry webhook deliveries, and the bot's
merge-request reports and comment commands when the bot is configured; run any number, on any
hosts. Set MLTRACKER_RUN_JOBS_IN_PROCESS=false on the web processes then.

Settings (environment; the flags below override the first two), the same values as `mltracker serve`:
  MLTRACKER_BACKEND_STORE_URI      the database the web processes use (required in practice: the
                                   default is a SQLite file under ./mltracker-data)
  MLTRACKER_ARTIFACTS_DESTINATION  the artifact store the web processes use (promote reads models there)
  MLTRACKER_GITLAB_URL             GitLab's base URL (for the bot)
  MLTRACKER_GITLAB_TOKEN           the bot's own token, api scope (for the bot)
  MLTRACKER_WEBHOOK_ENCRYPTION_KEY or MLTRACKER_SECRET_KEY   as the web processes have them (webhook secrets)
  MLTRACKER_PUBLIC_URL             this server's address, for the links the bot posts
  AWS_ENDPOINT_URL / MLFLOW_S3_ENDPOINT_URL and AWS credentials, when artifacts are in S3
"""


def _parser() -> argparse.ArgumentParser:
    from mltracker.service.version import mltracker_version

    parser = argparse.ArgumentParser(prog="mltracker", description="GitLab-native ML experiment tracker")
    parser.add_argument("--version", action="version", version=f"mltracker {mltracker_version()}")
    commands = parser.add_subparsers()

    serve = commands.add_parser("serve", help="run the tracking server")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default 5000)")
    serve.add_argument("--backend-store-uri", help="SQLAlchemy URL (default: SQLite under ./mltracker-data)")
    serve.add_argument("--artifacts-destination", help="local folder or s3://bucket/prefix")
    serve.add_argument("--workers", type=int, help="worker processes (default 2)")
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser(
        "worker", help="process queued jobs: registry webhook deliveries, bot work (any number can run)",
        formatter_class=argparse.RawDescriptionHelpFormatter, description=WORKER_SETTINGS,
    )
    worker.add_argument("--backend-store-uri", help="SQLAlchemy URL (the web processes' database)")
    worker.add_argument("--artifacts-destination", help="local folder or s3://bucket/prefix (the web processes' artifacts)")
    worker.set_defaults(handler=_worker)

    add_gate_command(commands)
    add_import_command(commands)
    add_webhook_command(commands)

    doctor = commands.add_parser("doctor", help="check the GitLab bot token: which projects it sees, what it may post")
    doctor.add_argument("--backend-store-uri", help="SQLAlchemy URL (the projects to check are the ones logging here)")
    doctor.set_defaults(handler=_doctor)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers()
    db_upgrade = db_commands.add_parser("upgrade", help="upgrade the schema to the latest version")
    db_upgrade.add_argument("--backend-store-uri", help="SQLAlchemy URL")
    db_upgrade.set_defaults(handler=_db_upgrade)
    return parser


def _settings(args):
    return settings_from_env(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        backend_store_uri=getattr(args, "backend_store_uri", None),
        artifacts_destination=getattr(args, "artifacts_destination", None),
        workers=getattr(args, "workers", None),
    )


def _db_upgrade(args) -> int:
    from mltracker.service.db.engine import Database
    from mltracker.service.db.migrate import current_revision, upgrade

    settings = _settings(args)
    # A migration may rewrite or index whole tables: no per-statement limit here.
    db = Database(settings.backend_store_uri, connect_timeout=settings.db_connect_timeout, statement_timeout=None)
    upgrade(db)
    print(f"database at revision {current_revision(db)}")
    return 0


def _worker(args) -> int:
    from mltracker.service.db.engine import Database
    from mltracker.service.extensions import load_extensions
    from mltracker.service.registry_webhooks import runtime as registry_webhooks_runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    db = Database.from_settings(settings)
    deliveries = registry_webhooks_runtime.start_worker(db, registry_webhooks_runtime.delivery_config(settings))
    for extension in load_extensions():
        if hasattr(extension, "run_worker"):
            try:
                extension.run_worker(db, settings)
                return 0
            except SystemExit as reason:  # the bot is not configured: registry webhooks still are
                print(f"{reason}; delivering registry webhooks only", file=sys.stderr)
    try:
        while deliveries.is_alive():
            deliveries.join(1.0)
    except KeyboardInterrupt:
        deliveries.stop()
        deliveries.join(10)
    return 0


def _doctor(args) -> int:
    from mltracker.service.db.engine import Database
    from mltracker.service.doctor import bot_token_report

    settings = _settings(args)
    if settings.local_mode:
        print("local mode (MLTRACKER_GITLAB_URL is not set): no GitLab to check")
        return 0
    db = Database.from_settings(settings)
    try:
        report = bot_token_report(settings, db)
    finally:
        db.dispose()
    print(f"GitLab: {settings.gitlab_url}")
    for line in report.lines():
        print(line)
    problems = report.warnings()
    print(f"{len(problems)} problem(s) found" if problems else "ok: the bot may post notes and statuses everywhere")
    return 1 if problems else 0


def _serve(args) -> int:
    from mltracker.service.store_setup import prepare_database
    from mltracker.service.db.engine import Database
    from mltracker.service.doctor import warn_about_bot_token_in_background
    from mltracker.service.server import run_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    db = Database(settings.backend_store_uri, connect_timeout=settings.db_connect_timeout, statement_timeout=None)
    prepare_database(db, settings)  # once, before the workers start (migrations: no statement limit)
    db.dispose()
    warn_about_bot_token_in_background(settings)
    run_server(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
