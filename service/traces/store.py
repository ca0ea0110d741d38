"""Trace info of a project: start (3.x, and the 2.x start/end pair), read, tags, run links, delete.

A trace is created by whichever comes first, its spans (`spans.log_spans`) or the client's
start-trace; start-trace then has the final word on times and state (`finalized`).
"""
from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import Connection, delete, select, update

from mltracker.service.db.traces_schema import trace_info, trace_metadata, trace_runs, trace_tags
from mltracker.service.db.upsert import dialect_insert, upsert_rows
from mltracker.service.errors import MlflowError, invalid, not_found
from mltracker.service.tracking import experiments as exps
from mltracker.service.traces.model import (
    ARTIFACT_LOCATION_TAG,
    INFO_FINALIZED_METADATA,
    SERVER_MANAGED_TAGS,
    SOURCE_RUN_METADATA,
    STATES,
    TraceInfo,
    preview,
)

MAX_KEY_CHARS = 250
MAX_VALUE_CHARS = 8000
MAX_TRACE_LINKS_PER_REQUEST = 100  # as mlflow's link-to-run
MAX_TRACES_PER_DELETE = 10_000
_ID_CHUNK = 500


def not_found_trace(trace_id: str) -> MlflowError:
    return not_found(f"Trace with ID '{trace_id}' not found.")


def chunks(items: list, size: int = _ID_CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def check_pairs(pairs: dict[str, str], what: str) -> None:
    for key, value in pairs.items():
        if not isinstance(key, str) or not key:
            raise invalid(f"Invalid {what} key: it must be a non-empty string.")
        if len(key) > MAX_KEY_CHARS:
            raise invalid(f"Invalid {what} key '{key[:50]}...': at most {MAX_KEY_CHARS} characters.")
        if not isinstance(value, str):
            raise invalid(f"Invalid {what} value for key '{key}': it must be a string.")
        if len(value) > MAX_VALUE_CHARS:
            raise invalid(f"Invalid {what} value for key '{key}': at most {MAX_VALUE_CHARS} characters.")


def artifact_location(experiment_row, trace_id: str) -> str:
    return f"{experiment_row.artifact_location.rstrip('/')}/traces/{trace_id}/artifacts"


def active_experiment(conn: Connection, project_id: int, experiment_id: int):
    experiment = exps.get_experiment_row(conn, project_id, experiment_id)
    if experiment.lifecycle_stage != exps.ACTIVE:
        raise invalid(
            f"The experiment {experiment_id} must be in the 'active' state. "
            f"Current state is {experiment.lifecycle_stage}."
        )
    return experiment


def get_row(conn: Connection, project_id: int, trace_id, *, for_update: bool = False):
    stmt = select(trace_info).where(trace_info.c.trace_id == trace_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None or row.project_id != project_id:
        raise not_found_trace(trace_id)
    return row


def _refuse_foreign(conn: Connection, project_id: int, trace_ids: list[str]) -> set[str]:
    """The ids among trace_ids that already exist (here); an id taken in another project is refused."""
    existing = set()
    for chunk in chunks(trace_ids):
        for row in conn.execute(select(trace_info.c.trace_id, trace_info.c.project_id)
                                .where(trace_info.c.trace_id.in_(chunk))):
            if row.project_id != project_id:
                raise MlflowError(f"Trace with ID '{row.trace_id}' already exists.", "RESOURCE_ALREADY_EXISTS")
            existing.add(row.trace_id)
    return existing


def upsert_tags(conn: Connection, trace_id: str, tags: dict[str, str]) -> None:
    upsert_rows(conn, trace_tags, [{"trace_id": trace_id, "key": k, "value": v} for k, v in tags.items()],
                ["trace_id", "key"], ["value"])


def upsert_metadata(conn: Connection, trace_id: str, metadata: dict[str, str]) -> None:
    upsert_rows(conn, trace_metadata,
                [{"trace_id": trace_id, "key": k, "value": v} for k, v in metadata.items()],
                ["trace_id", "key"], ["value"])
    if run_id := metadata.get(SOURCE_RUN_METADATA):
        link_runs(conn, [trace_id], run_id)


def link_runs(conn: Connection, trace_ids: list[str], run_id: str) -> None:
    rows = [{"run_id": run_id, "trace_id": t} for t in trace_ids]
    if rows:
        conn.execute(dialect_insert(conn)(trace_runs).on_conflict_do_nothing(), rows)


def start_trace(conn: Connection, project_id: int, info: TraceInfo, new_assessments: list[dict] = ()) -> None:
    """StartTraceV3: the complete trace info, sent by the client when the trace ends, with the
    assessments it carries (as the client sent them; `assessments.create` checks each)."""
    from mltracker.service.traces import assessments

    if info.state not in STATES:
        raise invalid(f"Invalid trace state '{info.state}'. Valid states are {list(STATES)}.")
    check_pairs(info.tags, "tag")
    check_pairs(info.metadata, "metadata")
    experiment = active_experiment(conn, project_id, info.experiment_id)
    _refuse_foreign(conn, project_id, [info.trace_id])
    values = {
        "experiment_id": info.experiment_id,
        "request_time": info.request_time_ms,
        "execution_duration": info.execution_duration_ms,
        "state": info.state,
        "client_request_id": info.client_request_id,
        "finalized": True,
    }
    optional = {"request_preview": preview(info.request_preview), "response_preview": preview(info.response_preview)}
    values.update({k: v for k, v in optional.items() if v is not None})
    insert = dialect_insert(conn)(trace_info).values(trace_id=info.trace_id, project_id=project_id, **values)
    conn.execute(insert.on_conflict_do_update(index_elements=["trace_id"], set_=values))
    tags = {k: v for k, v in info.tags.items() if k not in SERVER_MANAGED_TAGS}
    upsert_tags(conn, info.trace_id, {**tags, ARTIFACT_LOCATION_TAG: artifact_location(experiment, info.trace_id)})
    upsert_metadata(conn, info.trace_id, {**info.metadata, INFO_FINALIZED_METADATA: "true"})
    for assessment in new_assessments:
        assessments.create(conn, project_id, info.trace_id, assessment)


def start_trace_v2(conn: Connection, project_id: int, experiment_id: int, timestamp_ms: int,
                   metadata: dict[str, str], tags: dict[str, str]) -> str:
    """The 2.x StartTrace: a new trace IN_PROGRESS, with a server-made request id."""
    check_pairs(tags, "tag")
    check_pairs(metadata, "metadata")
    experiment = active_experiment(conn, project_id, experiment_id)
    trace_id = uuid.uuid4().hex
    conn.execute(trace_info.insert().values(
        trace_id=trace_id, project_id=project_id, experiment_id=experiment_id, request_time=timestamp_ms,
        execution_duration=None, state="IN_PROGRESS", finalized=False,
    ))
    tags = {k: v for k, v in tags.items() if k not in SERVER_MANAGED_TAGS}
    upsert_tags(conn, trace_id, {**tags, ARTIFACT_LOCATION_TAG: artifact_location(experiment, trace_id)})
    upsert_metadata(conn, trace_id, metadata)
    return trace_id


def end_trace_v2(conn: Connection, project_id: int, trace_id: str, timestamp_ms: int, state: str,
                 metadata: dict[str, str], tags: dict[str, str]) -> None:
    if state not in STATES:
        raise invalid(f"Invalid trace status '{state}'.")
    check_pairs(tags, "tag")
    check_pairs(metadata, "metadata")
    row = get_row(conn, project_id, trace_id, for_update=True)
    conn.execute(update(trace_info).where(trace_info.c.trace_id == trace_id).values(
        execution_duration=timestamp_ms - row.request_time, state=state, finalized=True,
    ))
    upsert_tags(conn, trace_id, {k: v for k, v in tags.items() if k not in SERVER_MANAGED_TAGS})
    upsert_metadata(conn, trace_id, metadata)


def set_tag(conn: Connection, project_id: int, trace_id: str, key: str, value: str) -> None:
    if key in SERVER_MANAGED_TAGS:
        raise invalid(f"Tag '{key}' is immutable and cannot be set on a trace.")
    check_pairs({key: value}, "tag")
    get_row(conn, project_id, trace_id)
    upsert_tags(conn, trace_id, {key: value})


def delete_tag(conn: Connection, project_id: int, trace_id: str, key: str) -> None:
    if key in SERVER_MANAGED_TAGS:
        raise invalid(f"Tag '{key}' is immutable and cannot be deleted on a trace.")
    get_row(conn, project_id, trace_id)
    removed = conn.execute(
        delete(trace_tags).where(trace_tags.c.trace_id == trace_id, trace_tags.c.key == key)
    ).rowcount
    if not removed:
        raise not_found(f"No trace tag with key '{key}' for trace with ID '{trace_id}'")


def link_to_run(conn: Connection, project_id: int, trace_ids: list[str], run_id: str) -> None:
    from mltracker.service.tracking.runs import get_run_row

    if len(trace_ids) > MAX_TRACE_LINKS_PER_REQUEST:
        raise invalid(f"Cannot link more than {MAX_TRACE_LINKS_PER_REQUEST} traces to a run in a single "
                      f"request. Provided {len(trace_ids)} traces.")
    get_run_row(conn, project_id, run_id)
    unique = list(dict.fromkeys(trace_ids))
    found = _refuse_foreign(conn, project_id, unique)
    # As mlflow server: ids of traces that are not there are passed over.
    link_runs(conn, [t for t in unique if t in found], run_id)


def delete_traces(conn: Connection, project_id: int, experiment_id: int, *, max_timestamp_ms: int | None,
                  max_traces: int | None, trace_ids: list[str]) -> int:
    """By ids, or every trace that started at or before max_timestamp_ms (the oldest max_traces of
    them); as mlflow's store, one of the two and not both."""
    if max_timestamp_ms is None and not trace_ids:
        raise invalid("Either `max_timestamp_millis` or `trace_ids` must be specified.")
    if max_timestamp_ms is not None and trace_ids:
        raise invalid("Only one of `max_timestamp_millis` and `trace_ids` can be specified.")
    if trace_ids and max_traces is not None:
        raise invalid("`max_traces` can't be specified if `trace_ids` is specified.")
    if max_traces is not None and max_traces <= 0:
        raise invalid(f"`max_traces` must be a positive integer, received {max_traces}.")
    if len(trace_ids) > MAX_TRACES_PER_DELETE:
        raise invalid(f"At most {MAX_TRACES_PER_DELETE} trace ids can be deleted in one request.")
    exps.get_experiment_row(conn, project_id, experiment_id)
    scope = [trace_info.c.project_id == project_id, trace_info.c.experiment_id == experiment_id]
    if trace_ids:
        deleted = 0
        for chunk in chunks(list(dict.fromkeys(trace_ids))):
            deleted += conn.execute(delete(trace_info).where(*scope, trace_info.c.trace_id.in_(chunk))).rowcount
        return deleted
    chosen = (select(trace_info.c.trace_id).where(*scope, trace_info.c.request_time <= max_timestamp_ms)
              .order_by(trace_info.c.request_time, trace_info.c.trace_id))
    if max_traces is not None:
        chosen = chosen.limit(max_traces)
    return conn.execute(delete(trace_info).where(trace_info.c.trace_id.in_(chosen.scalar_subquery()))).rowcount


def load_infos(conn: Connection, rows: list) -> list[TraceInfo]:
    """TraceInfo of each trace row, in the order given: four queries whatever the count."""
    from mltracker.service.traces.assessments import assessments_of

    ids = [r.trace_id for r in rows]
    tags, metadata = defaultdict(dict), defaultdict(dict)
    for chunk in chunks(ids):
        for row in conn.execute(select(trace_tags).where(trace_tags.c.trace_id.in_(chunk))):
            tags[row.trace_id][row.key] = row.value
        for row in conn.execute(select(trace_metadata).where(trace_metadata.c.trace_id.in_(chunk))):
            metadata[row.trace_id][row.key] = row.value
    found_assessments = assessments_of(conn, ids)
    return [
        TraceInfo(
            trace_id=r.trace_id, experiment_id=r.experiment_id, request_time_ms=r.request_time,
            execution_duration_ms=r.execution_duration, state=r.state, client_request_id=r.client_request_id,
            request_preview=r.request_preview, response_preview=r.response_preview,
            tags=tags[r.trace_id], metadata=metadata[r.trace_id], assessments=found_assessments[r.trace_id],
        )
        for r in rows
    ]


def get_info(conn: Connection, project_id: int, trace_id: str) -> TraceInfo:
    return load_infos(conn, [get_row(conn, project_id, trace_id)])[0]


def rows_by_ids(conn: Connection, project_id: int, trace_ids: list[str], experiment_ids=None) -> list:
    """The project's trace rows among trace_ids (in that order; unknown ids left out)."""
    found = {}
    for chunk in chunks(list(dict.fromkeys(trace_ids))):
        stmt = select(trace_info).where(trace_info.c.trace_id.in_(chunk), trace_info.c.project_id == project_id)
        if experiment_ids is not None:
            stmt = stmt.where(trace_info.c.experiment_id.in_(experiment_ids))
        found.update((r.trace_id, r) for r in conn.execute(stmt))
    return [found[t] for t in dict.fromkeys(trace_ids) if t in found]
