"""The bot's uploads to GitLab, remembered by content per merge request: upload once, link ever after."""
from __future__ import annotations

import hashlib
from typing import Callable

from sqlalchemy import select

from mltracker.service.db.engine import Database
from mltracker.service.db.jobs_schema import bot_uploads
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.tracking.clock import now_ms


def content_hash(name: str, content: bytes) -> str:
    """The file name is part of it: GitLab's URL ends with the name the markdown shows."""
    return hashlib.sha256(name.encode() + b"\0" + content).hexdigest()


def upload_once(db: Database, project_id: int, merge_request_iid: int, name: str, content: bytes,
                upload: Callable[[str, bytes], str]) -> str:
    """The URL of these bytes uploaded under this name for this merge request; uploads them
    (`upload(name, content) -> url`) only the first time."""
    key = content_hash(name, content)
    with db.read() as conn:
        known = conn.execute(select(bot_uploads.c.url).where(
            bot_uploads.c.project_id == project_id, bot_uploads.c.merge_request_iid == merge_request_iid,
            bot_uploads.c.content_hash == key,
        )).scalar()
    if known:
        return known
    url = upload(name, content)
    with db.write() as conn:
        upsert_rows(conn, bot_uploads, [{
            "project_id": project_id, "merge_request_iid": merge_request_iid, "content_hash": key,
            "url": url, "created_time": now_ms(),
        }], ["project_id", "merge_request_iid", "content_hash"], [])
    return url
