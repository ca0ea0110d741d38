"""What the bot answered to each command note, so that a retried job answers exactly once.

The answer is stored before it is posted — for a promote, in the promote's own transaction — and
the reply's note id once GitLab has it. Each reply also carries a hidden marker naming the note it
answers, which finds a reply GitLab created although the job died before recording it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from mltracker.service.db.bot_schema import command_replies
from mltracker.service.db.engine import Database
from mltracker.service.tracking.clock import now_ms


@dataclass(frozen=True)
class Answer:
    body: str
    reply_note_id: int | None


def marker(note_id: int) -> str:
    return f"<!-- mltracker:reply-to:{int(note_id)} -->"


def recorded(db: Database, project_id: int, note_id: int) -> Answer | None:
    with db.read() as conn:
        row = conn.execute(
            select(command_replies.c.body, command_replies.c.reply_note_id)
            .where(command_replies.c.project_id == project_id, command_replies.c.note_id == note_id)
        ).first()
    return Answer(row.body, row.reply_note_id) if row else None


def record_answer(conn: Connection, project_id: int, note_id: int, body: str) -> None:
    """Inside the caller's transaction: a second answer to the same note fails on the primary key
    and rolls the caller's work (a second promote) back with it."""
    conn.execute(command_replies.insert().values(
        project_id=project_id, note_id=note_id, body=body, reply_note_id=None, created_time=now_ms(),
    ))


def record_posted(db: Database, project_id: int, note_id: int, reply_note_id: int) -> None:
    with db.write() as conn:
        conn.execute(
            update(command_replies)
            .where(command_replies.c.project_id == project_id, command_replies.c.note_id == note_id)
            .values(reply_note_id=reply_note_id)
        )
