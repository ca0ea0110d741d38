"""`mltracker doctor`, and the same check logged at `serve` start: can the bot's GitLab token see
the projects that log here, and may it post what the bot posts there?"""
from __future__ import annotations

import logging
import multiprocessing

from sqlalchemy import select

from mltracker.service.db.engine import Database
from mltracker.service.gitlab import GitLabAdapter
from mltracker.service.gitlab.bot_scope import BotTokenReport, check_bot_token
from mltracker.service.settings import Settings

log = logging.getLogger("mltracker.doctor")
MAX_PROJECTS = 50


def tracked_projects(db: Database, limit: int = MAX_PROJECTS) -> list[int]:
    from mltracker.service.db.schema import experiments

    with db.read() as conn:
        return [int(p) for p in conn.execute(
            select(experiments.c.project_id).distinct().where(experiments.c.project_id > 0)
            .order_by(experiments.c.project_id).limit(limit)
        ).scalars()]


def bot_token_report(settings: Settings, db: Database) -> BotTokenReport:
    adapter = GitLabAdapter(settings.gitlab_url or "", settings.gitlab_token, timeout=settings.gitlab_timeout)
    return check_bot_token(adapter, tracked_projects(db))


def warn_about_bot_token_in_background(settings: Settings) -> None:
    """At `serve` start, without delaying it: one log warning per problem found. The check runs in
    a spawned process: a thread in gunicorn's master would be forked into the workers mid-call
    (holding locks the workers then wait on forever)."""
    if settings.local_mode:
        return
    multiprocessing.get_context("spawn").Process(
        target=_log_bot_token_warnings, args=(settings,), name="mltracker-doctor", daemon=True,
    ).start()


def _log_bot_token_warnings(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db = Database.from_settings(settings)
    try:
        for problem in bot_token_report(settings, db).warnings():
            log.warning("bot token: %s (run `mltracker doctor` for details)", problem)
    except Exception as exc:  # noqa: BLE001 - a diagnostic must never stop the server
        log.warning("could not check the bot token: %s", type(exc).__name__)
    finally:
        db.dispose()
