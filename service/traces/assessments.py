"""Assessments on a trace: feedback (a judgement, by a human, an LLM judge or code) and expectations
(the ground truth). Create, get, update, delete, with mlflow's rules: source and span are fixed once
created, metadata merges, and an assessment that `overrides` another marks it invalid until deleted.

An assessment is kept as the client's fields (`body`, JSON) plus the columns that identify it, and
read as `model.Assessment`."""
from __future__ import annotations

import json
import uuid
from collections import defaultdict

from sqlalchemy import Connection, delete, select, update

from mltracker.service.db.traces_schema import assessments, trace_info
from mltracker.service.db.upsert import dialect_insert
from mltracker.service.errors import invalid, not_found
from mltracker.service.tracking.clock import now_ms
from mltracker.service.traces.model import Assessment
from mltracker.service.traces.timefmt import parse_timestamp

KINDS = ("feedback", "expectation")
MAX_NAME_CHARS = 250
MAX_BODY_CHARS = 1_000_000
# What the columns hold; everything else of the assessment stays in `body`.
_COLUMN_FIELDS = ("assessment_id", "assessment_name", "trace_id", "create_time", "last_update_time", "valid",
                  "overrides")
UPDATABLE = ("assessment_name", "expectation", "feedback", "rationale", "metadata", "valid")


def _require_trace(conn: Connection, project_id: int, trace_id: str) -> None:
    owner = conn.execute(select(trace_info.c.project_id).where(trace_info.c.trace_id == trace_id)).scalar()
    if owner is None or owner != project_id:
        raise not_found(f"Trace with request_id '{trace_id}' not found")


def _kind(data: dict) -> str:
    present = [k for k in KINDS if data.get(k) is not None]
    if len(present) != 1:
        raise invalid("Exactly one of `expectation` or `feedback` should be specified.")
    return present[0]


def _name(data: dict) -> str:
    name = data.get("assessment_name")
    if not isinstance(name, str) or not name:
        raise invalid("Missing value for required parameter 'assessment.assessment_name'.")
    if len(name) > MAX_NAME_CHARS:
        raise invalid(f"Assessment name is longer than {MAX_NAME_CHARS} characters.")
    return name


def _body(data: dict) -> str:
    text = json.dumps({k: v for k, v in data.items() if k not in _COLUMN_FIELDS}, ensure_ascii=False)
    if len(text) > MAX_BODY_CHARS:
        raise invalid(f"The assessment is larger than {MAX_BODY_CHARS} characters.")
    return text


def create(conn: Connection, project_id: int, trace_id: str, data: dict) -> Assessment:
    if not isinstance(data, dict):
        raise invalid("Missing value for required parameter 'assessment'.")
    _require_trace(conn, project_id, trace_id)
    kind = _kind(data)
    name = _name(data)
    now = now_ms()
    create_time = parse_timestamp(data["create_time"], "create_time") if data.get("create_time") else now
    update_time = (parse_timestamp(data["last_update_time"], "last_update_time")
                   if data.get("last_update_time") else create_time)
    overrides = data.get("overrides") or None
    if overrides is not None:
        marked = conn.execute(update(assessments).where(
            assessments.c.trace_id == trace_id, assessments.c.assessment_id == overrides,
        ).values(valid=False)).rowcount
        if not marked:
            raise not_found(f"Assessment with ID '{overrides}' not found for trace '{trace_id}'")
    given_id = data.get("assessment_id")
    assessment_id = given_id if isinstance(given_id, str) and 0 < len(given_id) <= 50 else f"a-{uuid.uuid4().hex}"
    conn.execute(dialect_insert(conn)(assessments).values(
        assessment_id=assessment_id, trace_id=trace_id, name=name, kind=kind, create_time_ms=create_time,
        last_update_time_ms=update_time, valid=data.get("valid") is not False, overrides=overrides,
        body=_body(data),
    ).on_conflict_do_nothing())
    return get(conn, project_id, trace_id, assessment_id)


def _row(conn: Connection, project_id: int, trace_id: str, assessment_id: str):
    _require_trace(conn, project_id, trace_id)
    row = conn.execute(select(assessments).where(
        assessments.c.trace_id == trace_id, assessments.c.assessment_id == assessment_id)).first()
    if row is None:
        raise not_found(f"Assessment with ID '{assessment_id}' not found for trace '{trace_id}'")
    return row


def _assessment(row) -> Assessment:
    return Assessment(
        assessment_id=row.assessment_id, name=row.name, trace_id=row.trace_id, kind=row.kind,
        create_time_ms=row.create_time_ms, last_update_time_ms=row.last_update_time_ms, valid=bool(row.valid),
        overrides=row.overrides or None, details=json.loads(row.body),
    )


def get(conn: Connection, project_id: int, trace_id: str, assessment_id: str) -> Assessment:
    return _assessment(_row(conn, project_id, trace_id, assessment_id))


def update_assessment(conn: Connection, project_id: int, trace_id: str, assessment_id: str, changes: dict,
                      paths: list[str]) -> Assessment:
    """UpdateAssessment: the fields named in the update mask take their new values."""
    row = _row(conn, project_id, trace_id, assessment_id)
    unknown = [p for p in paths if p not in UPDATABLE]
    if unknown:
        raise invalid(f"Invalid update mask path(s) {unknown}; valid paths are {list(UPDATABLE)}.")
    if "expectation" in paths and "feedback" in paths:
        raise invalid("Cannot specify both `expectation` and `feedback` parameters.")
    if "expectation" in paths and row.kind != "expectation":
        raise invalid("Cannot update expectation value on a Feedback assessment.")
    if "feedback" in paths and row.kind != "feedback":
        raise invalid("Cannot update feedback value on an Expectation assessment.")
    body = json.loads(row.body)
    values = {"last_update_time_ms": now_ms()}
    if "assessment_name" in paths:
        values["name"] = _name(changes)
    for field in ("expectation", "feedback", "rationale"):
        if field in paths:
            body[field] = changes.get(field)
    if "metadata" in paths:
        merged = dict(body.get("metadata") or {})
        merged.update(changes.get("metadata") or {})
        body["metadata"] = merged
    if "valid" in paths:
        values["valid"] = changes.get("valid") is not False
    values["body"] = _body({k: v for k, v in body.items() if v is not None})
    conn.execute(update(assessments).where(assessments.c.assessment_id == assessment_id).values(**values))
    return get(conn, project_id, trace_id, assessment_id)


def delete_assessment(conn: Connection, project_id: int, trace_id: str, assessment_id: str) -> None:
    """Deleting one that is not there is not an error (as mlflow); the one it overrode is valid again."""
    _require_trace(conn, project_id, trace_id)
    row = conn.execute(select(assessments).where(
        assessments.c.trace_id == trace_id, assessments.c.assessment_id == assessment_id)).first()
    if row is None:
        return
    if row.overrides:
        conn.execute(update(assessments).where(
            assessments.c.trace_id == trace_id, assessments.c.assessment_id == row.overrides,
        ).values(valid=True))
    conn.execute(delete(assessments).where(assessments.c.assessment_id == assessment_id))


def assessments_of(conn: Connection, trace_ids: list[str]) -> dict[str, list[Assessment]]:
    from mltracker.service.traces.store import chunks

    found = defaultdict(list)
    for chunk in chunks(trace_ids):
        for row in conn.execute(select(assessments).where(assessments.c.trace_id.in_(chunk))
                                .order_by(assessments.c.create_time_ms, assessments.c.assessment_id)):
            found[row.trace_id].append(_assessment(row))
    return found
