"""A merge-request comment addressed to the bot → 👀 at once, then the command's answer in the thread."""
from __future__ import annotations

import logging

from mltracker.bot.candidates import AmbiguousCandidate, CandidateNotFound, resolve_candidate
from mltracker.bot.commands import Compare, Help, Ignore, Promote, Reply, help_text, parse
from mltracker.bot.context import BotContext
from mltracker.bot.events import MergeRequestComment
from mltracker.reports import render_compare
from mltracker.service.artifacts.factory import storage_from_destination
from mltracker.service.auth.policy import role_name
from mltracker.service.comparison.rules import ComparisonRules
from mltracker.service.errors import MlflowError
from mltracker.service.registry.promote import promote
from mltracker.service.reporting.candidates import candidate_data, experiment_tags
from mltracker.service.tracking.experiments import get_experiment_rows

log = logging.getLogger("mltracker.bot")


def handle_comment(ctx: BotContext, event: MergeRequestComment) -> None:
    if event.author_username.lower() == ctx.bot_username.lower():
        return
    command = parse(event.body, ctx.bot_username)
    if isinstance(command, Ignore):
        return
    ctx.gitlab.react(event.project_id, event.merge_request_iid, event.note_id, "eyes")
    links = ctx.links(event.project_id, event.project_url)
    if isinstance(command, Reply):
        text = command.text
    elif isinstance(command, Help):
        text = help_text(ctx.bot_username)
    elif isinstance(command, Promote):
        text = _promote(ctx, event, command, links)
    elif isinstance(command, Compare):
        text = _compare(ctx, event, command)
    else:  # pragma: no cover - parse returns nothing else
        return
    ctx.gitlab.reply(event.project_id, event.merge_request_iid, event.discussion_id, text)


def refusal(reason: str) -> str:
    safe = reason.replace("```", "'''")
    return f"❌ Could not do that:\n\n```\n{safe}\n```"


def _promote(ctx: BotContext, event: MergeRequestComment, command: Promote, links) -> str:
    if event.merge_request_state != "opened":
        return refusal(f"This merge request is {event.merge_request_state or 'not open'}; promote from an open one.")
    level = ctx.gitlab.access_level(event.project_id, event.author_id)
    if level < ctx.promote_min_access_level:
        needed = role_name(ctx.promote_min_access_level)
        return refusal(f"No permission: promoting needs the {needed} role or higher in this project.")
    try:
        with ctx.db.write() as conn:
            match = resolve_candidate(conn, event.project_id, event.merge_request_iid, command.candidate)
            model = command.model or get_experiment_rows(conn, [match.experiment_id])[match.experiment_id].name
            result = promote(
                conn, storage_from_destination(ctx.settings.artifacts_destination),
                event.project_id, match.run_id, model, command.alias,
                actor=event.author_username, source_mr=event.merge_request_iid, force=command.force,
            )
    except (CandidateNotFound, AmbiguousCandidate, MlflowError) as exc:
        return refusal(_explain(exc))
    alias = f", alias `{result.alias}`" if result.alias else ""
    return (
        f"✅ Promoted candidate [`{match.name}`]({links.candidate(match.run_id)}) to model "
        f"[`{result.name}`]({links.model(result.name)}) version {result.version}{alias}."
    )


def _compare(ctx: BotContext, event: MergeRequestComment, command: Compare) -> str:
    try:
        with ctx.db.read() as conn:
            first = resolve_candidate(conn, event.project_id, event.merge_request_iid, command.first)
            second = resolve_candidate(conn, event.project_id, event.merge_request_iid, command.second)
            if first.run_id == second.run_id:
                return refusal("Both names point at the same candidate; compare two different ones.")
            links = ctx.links(event.project_id, event.project_url)
            a, b = candidate_data(conn, [first.run_id, second.run_id], ui_url_for=links.candidate)
            tags = experiment_tags(conn, second.experiment_id)
    except (CandidateNotFound, AmbiguousCandidate) as exc:
        return refusal(_explain(exc))
    return render_compare(a, b, rules=ComparisonRules(tags))


def _explain(exc: Exception) -> str:
    if isinstance(exc, CandidateNotFound):
        return f"Unknown candidate: {exc.args[0]!r} (use a run name, a run id or a run id prefix)."
    if isinstance(exc, AmbiguousCandidate):
        listed = "\n".join(f"  {m.name}  {m.run_id}" for m in exc.matches[:10])
        return f"Ambiguous candidate {exc.args[0]!r}; it matches:\n{listed}\nUse the run id."
    if isinstance(exc, MlflowError):
        return exc.message
    return str(exc)

