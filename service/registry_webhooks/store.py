"""Webhooks of a project: create, get, list (paged), update, delete — plain functions over a
Connection. A webhook of another project is "not found", exactly like one that does not exist."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, insert, select, update

from mltracker.service.db.registry_webhooks_schema import registry_webhook_events, registry_webhooks
from mltracker.service.errors import invalid, not_found
from mltracker.service.registry_webhooks import validation as v
from mltracker.service.registry_webhooks.events import Event, require_events
from mltracker.service.registry_webhooks.secrets import SecretBox
from mltracker.service.search.page_token import decode_offset, encode_offset
from mltracker.service.tracking.clock import now_ms

DEFAULT_MAX_RESULTS, MAX_RESULTS = 100, 1000


@dataclass(frozen=True)
class Webhook:
    id: str
    project_id: int
    name: str
    url: str
    events: list[Event]
    status: str
    description: str | None
    creation_timestamp: int
    last_updated_timestamp: int
    sealed_secret: str | None = field(default=None, repr=False)


def _events_of(conn: Connection, ids: list[str]) -> dict[str, list[Event]]:
    found: dict[str, list[Event]] = {i: [] for i in ids}
    if ids:
        rows = conn.execute(
            select(registry_webhook_events)
            .where(registry_webhook_events.c.webhook_id.in_(ids))
            .order_by(registry_webhook_events.c.webhook_id, registry_webhook_events.c.entity,
                      registry_webhook_events.c.action)
        )
        for row in rows:
            found[row.webhook_id].append(Event(row.entity, row.action))
    return found


def _webhooks(conn: Connection, rows) -> list[Webhook]:
    events = _events_of(conn, [r.id for r in rows])
    return [
        Webhook(r.id, r.project_id, r.name, r.url, events[r.id], r.status, r.description,
                r.creation_timestamp, r.last_updated_timestamp, r.secret)
        for r in rows
    ]


def _save_events(conn: Connection, webhook_id: str, events: list[Event]) -> None:
    conn.execute(delete(registry_webhook_events).where(registry_webhook_events.c.webhook_id == webhook_id))
    conn.execute(insert(registry_webhook_events), [
        {"webhook_id": webhook_id, "entity": e.entity, "action": e.action} for e in events
    ])


def create(conn: Connection, box: SecretBox, rules: v.UrlRules, project_id: int, *, name: str, url: str,
           events: list[Event], description: str | None = None, secret: str | None = None,
           status: str | None = None) -> Webhook:
    v.validate_name(name)
    v.validate_url(url, rules)
    require_events(events)
    v.validate_description(description)
    v.validate_secret(secret)
    webhook_id = str(uuid.uuid4())
    now = now_ms()
    conn.execute(insert(registry_webhooks).values(
        id=webhook_id, project_id=project_id, name=name, url=url, description=description,
        status=status or "ACTIVE", secret=box.seal(secret), creation_timestamp=now, last_updated_timestamp=now,
    ))
    _save_events(conn, webhook_id, events)
    return get(conn, project_id, webhook_id)


def get(conn: Connection, project_id: int, webhook_id: str) -> Webhook:
    row = None
    if len(webhook_id) <= 36:
        row = conn.execute(select(registry_webhooks).where(
            registry_webhooks.c.id == webhook_id, registry_webhooks.c.project_id == project_id,
        )).first()
    if row is None:
        raise not_found(f"Webhook with ID {webhook_id} not found.")
    return _webhooks(conn, [row])[0]


def list_page(conn: Connection, project_id: int, max_results: int | None,
              page_token: str | None) -> tuple[list[Webhook], str | None]:
    """Newest first, as MLflow lists them; a token for the next page when there is one."""
    max_results = max_results or DEFAULT_MAX_RESULTS
    if not 1 <= max_results <= MAX_RESULTS:
        raise invalid(f"max_results must be between 1 and {MAX_RESULTS}.")
    offset = decode_offset(page_token)
    rows = conn.execute(
        select(registry_webhooks).where(registry_webhooks.c.project_id == project_id)
        .order_by(registry_webhooks.c.creation_timestamp.desc(), registry_webhooks.c.id)
        .limit(max_results + 1).offset(offset)
    ).all()
    token = encode_offset(offset + max_results) if len(rows) > max_results else None
    return _webhooks(conn, rows[:max_results]), token


def change(conn: Connection, box: SecretBox, rules: v.UrlRules, project_id: int, webhook_id: str, *,
           name: str | None = None, url: str | None = None, events: list[Event] | None = None,
           description: str | None = None, secret: str | None = None, status: str | None = None) -> Webhook:
    """Change the given fields (None: leave as is); an empty secret removes it."""
    current = get(conn, project_id, webhook_id)
    values: dict = {}
    if name is not None:
        v.validate_name(name)
        values["name"] = name
    if url is not None:
        v.validate_url(url, rules)
        values["url"] = url
    if events is not None:
        require_events(events)
        _save_events(conn, current.id, events)
    if description is not None:
        v.validate_description(description)
        values["description"] = description
    if secret is not None:
        v.validate_secret(secret)
        values["secret"] = box.seal(secret) if secret else None
    if status is not None:
        values["status"] = status
    values["last_updated_timestamp"] = max(now_ms(), current.last_updated_timestamp + 1)
    conn.execute(update(registry_webhooks).where(registry_webhooks.c.id == current.id).values(**values))
    return get(conn, project_id, current.id)


def delete_webhook(conn: Connection, project_id: int, webhook_id: str) -> None:
    current = get(conn, project_id, webhook_id)
    conn.execute(delete(registry_webhook_events).where(registry_webhook_events.c.webhook_id == current.id))
    conn.execute(delete(registry_webhooks).where(registry_webhooks.c.id == current.id))


def listening(conn: Connection, project_id: int, event: Event) -> list[tuple[str, str]]:
    """(id, url) of the project's active webhooks that listen to `event`."""
    rows = conn.execute(
        select(registry_webhooks.c.id, registry_webhooks.c.url)
        .join(registry_webhook_events, registry_webhook_events.c.webhook_id == registry_webhooks.c.id)
        .where(registry_webhooks.c.project_id == project_id, registry_webhooks.c.status == "ACTIVE",
               registry_webhook_events.c.entity == event.entity,
               registry_webhook_events.c.action == event.action)
    )
    return [(r.id, r.url) for r in rows]


def has_webhooks(conn: Connection, project_id: int) -> bool:
    """Whether the project has any active webhook (the cheap check before building a payload)."""
    return conn.execute(
        select(registry_webhooks.c.id).where(registry_webhooks.c.project_id == project_id,
                                             registry_webhooks.c.status == "ACTIVE").limit(1)
    ).first() is not None
