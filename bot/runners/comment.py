"""A merge-request comment addressed to the bot → 👀 at once, then the command's answer in the thread.

The webhook payload only says which note to look at: what the note says, who wrote it, where it
is and whether the merge request is open all come from GitLab's API, read with the bot's token.
Every side effect survives a retried job: the 👀 award, the command (its answer is stored with
it) and the reply (posted once, found again by its marker).
"""
from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from mltracker.bot import replies
from mltracker.bot.candidates import AmbiguousCandidate, CandidateNotFound, resolve_candidate
from mltracker.bot.commands import Compare, Help, Ignore, Promote, Reply, help_text, parse
from mltracker.bot.context import BotContext
from mltracker.bot.events import MergeRequestComment
from mltracker.bot.gitlab_port import CommandNote
from mltracker.reports import render_compare
from mltracker.reports.escaping import code_block, md_code, safe_url
from mltracker.service.artifacts.factory import storage_from_destination
from mltracker.service.auth.policy import role_name
from mltracker.service.comparison.rules import ComparisonRules
from mltracker.service.comparison.scorer_metrics import experiment_scorer_metrics
from mltracker.service.errors import MlflowError
from mltracker.service.gitlab.client import GitLabNotVisible
from mltracker.service.registry.promote import promote
from mltracker.service.report_data.candidates import candidate_data, experiment_tags
from mltracker.service.tracking.experiments import get_experiment_rows

log = logging.getLogger("mltracker.bot")


def handle_comment(ctx: BotContext, event: MergeRequestComment) -> None:
    # The payload may only make the bot do less: a note it does not address the bot costs no call.
    if event.author_username.lower() == ctx.bot_username.lower():
        return
    if isinstance(parse(event.body, ctx.bot_username), Ignore):
        return
    note = _note_from_gitlab(ctx, event)
    if note is None:
        return
    command = parse(note.body, ctx.bot_username)
    if isinstance(command, Ignore):
        return
    ctx.gitlab.react(note.project_id, note.merge_request_iid, note.id, "eyes")
    answer = replies.recorded(ctx.db, note.project_id, note.id)
    if answer is None:
        try:
            _answer(ctx, note, command)
        except IntegrityError:
            pass  # another run of this job answered first (and promoted, if it was a promote)
        answer = replies.recorded(ctx.db, note.project_id, note.id)
    if answer.reply_note_id is None:
        _post_reply_once(ctx, note, event.discussion_id, answer.body)


def _note_from_gitlab(ctx: BotContext, event: MergeRequestComment) -> CommandNote | None:
    try:
        note = ctx.gitlab.command_note(event.project_id, event.merge_request_iid, event.note_id)
    except GitLabNotVisible:
        log.warning("note %s is not a note of !%s in project %s (per GitLab); ignored",
                    event.note_id, event.merge_request_iid, event.project_id)
        return None
    if (note.system or note.project_id != event.project_id or note.merge_request_iid != event.merge_request_iid
            or note.author_username.lower() == ctx.bot_username.lower()):
        return None
    return note


def _answer(ctx: BotContext, note: CommandNote, command) -> None:
    """Work out the answer and store it; a promote is stored in its own transaction."""
    if isinstance(command, Promote):
        _promote(ctx, note, command)
        return
    if isinstance(command, Reply):
        text = command.text
    elif isinstance(command, Help):
        text = help_text(ctx.bot_username)
    else:
        text = _compare(ctx, note, command)
    with ctx.db.write() as conn:
        replies.record_answer(conn, note.project_id, note.id, text)


def _post_reply_once(ctx: BotContext, note: CommandNote, discussion_id: str | None, text: str) -> None:
    marker = replies.marker(note.id)
    thread, earlier = _thread_of(ctx, note, discussion_id)
    for reply in earlier:
        if reply.author_username == ctx.bot_username and marker in reply.body:
            replies.record_posted(ctx.db, note.project_id, note.id, reply.id)
            return
    reply_id = ctx.gitlab.reply(note.project_id, note.merge_request_iid, thread, f"{text}\n\n{marker}",
                                internal=note.internal)
    replies.record_posted(ctx.db, note.project_id, note.id, reply_id)


def _thread_of(ctx: BotContext, note: CommandNote, discussion_id: str | None):
    """(the payload's thread id and its notes) if GitLab confirms the note is in that thread, else
    (None, every note of the merge request): the answer then goes as a new note."""
    if discussion_id:
        try:
            notes = ctx.gitlab.discussion_notes(note.project_id, note.merge_request_iid, discussion_id)
        except GitLabNotVisible:
            notes = []
        if any(n.id == note.id for n in notes):
            return discussion_id, notes
    return None, ctx.gitlab.merge_request_notes(note.project_id, note.merge_request_iid)


def refusal(reason: str) -> str:
    return f"❌ Could not do that:\n\n{code_block(reason)}"


def _promote(ctx: BotContext, note: CommandNote, command: Promote) -> None:
    text = _promote_refusal(ctx, note)
    if text is None:
        links = ctx.links(note.project_id)
        try:
            with ctx.db.write() as conn:
                match = resolve_candidate(conn, note.project_id, note.merge_request_iid, command.candidate)
                model = command.model or get_experiment_rows(conn, [match.experiment_id])[match.experiment_id].name
                result = promote(
                    conn, storage_from_destination(ctx.settings.artifacts_destination, ctx.settings.s3),
                    note.project_id, match.run_id, model, command.alias,
                    actor=note.author_username, source_mr=note.merge_request_iid, force=command.force,
                )
                replies.record_answer(conn, note.project_id, note.id, promoted_text(match.name, match.run_id, result, links))
            return
        except (CandidateNotFound, AmbiguousCandidate, MlflowError) as exc:
            text = refusal(_explain(exc))
    with ctx.db.write() as conn:
        replies.record_answer(conn, note.project_id, note.id, text)


def _promote_refusal(ctx: BotContext, note: CommandNote) -> str | None:
    state = ctx.gitlab.get_merge_request(note.project_id, note.merge_request_iid).state
    if state != "opened":
        return refusal(f"This merge request is {state or 'not open'}; promote from an open one.")
    level = ctx.gitlab.access_level(note.project_id, note.author_id)
    if level < ctx.promote_min_access_level:
        needed = role_name(ctx.promote_min_access_level)
        return refusal(f"No permission: promoting needs the {needed} role or higher in this project.")
    return None


def promoted_text(candidate_name: str, run_id: str, result, links) -> str:
    alias = f", alias {md_code(result.alias)}" if result.alias else ""
    return (
        f"✅ Promoted candidate [{md_code(candidate_name)}]({safe_url(links.candidate(run_id))}) to model "
        f"[{md_code(result.name)}]({safe_url(links.model(result.name))}) version {int(result.version)}{alias}."
    )


def _compare(ctx: BotContext, note: CommandNote, command: Compare) -> str:
    try:
        with ctx.db.read() as conn:
            first = resolve_candidate(conn, note.project_id, note.merge_request_iid, command.first)
            second = resolve_candidate(conn, note.project_id, note.merge_request_iid, command.second)
            if first.run_id == second.run_id:
                return refusal("Both names point at the same candidate; compare two different ones.")
            links = ctx.links(note.project_id)
            a, b = candidate_data(conn, [first.run_id, second.run_id], ui_url_for=links.candidate)
            tags = experiment_tags(conn, second.experiment_id)
            scorer_aggregates = experiment_scorer_metrics(conn, second.experiment_id)
    except (CandidateNotFound, AmbiguousCandidate) as exc:
        return refusal(_explain(exc))
    return render_compare(a, b, rules=ComparisonRules(tags, scorer_metrics=scorer_aggregates))


def _explain(exc: Exception) -> str:
    if isinstance(exc, CandidateNotFound):
        return f"Unknown candidate: {exc.args[0]!r} (use a run name, a run id or a run id prefix)."
    if isinstance(exc, AmbiguousCandidate):
        listed = "\n".join(f"  {m.name}  {m.run_id}" for m in exc.matches[:10])
        return f"Ambiguous candidate {exc.args[0]!r}; it matches:\n{listed}\nUse the run id."
    if isinstance(exc, MlflowError):
        return exc.message
    return str(exc)
