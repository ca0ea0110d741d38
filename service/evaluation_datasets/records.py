"""Records of an evaluation dataset: upsert (one record per distinct inputs), pages, delete.

As MLflow's SQL store: a record whose inputs are already in the dataset is merged into it (outputs
replaced, expectations and tags merged key by key); every upsert refreshes the dataset's digest,
schema (field types seen so far) and profile (record count)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from mltracker.service.db.evaluation_schema import evaluation_dataset_records, evaluation_datasets
from mltracker.service.errors import invalid
from mltracker.service.evaluation_datasets.store import USER_TAG, digest, get_row
from mltracker.service.tracking.clock import now_ms

RECORD_ID_PREFIX = "dr-"
MAX_PAGE = 1000
SOURCE_TYPES = ("UNSPECIFIED", "TRACE", "HUMAN", "DOCUMENT", "CODE")

t = evaluation_dataset_records


def input_hash(inputs) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def parse_records(raw: str) -> list[dict]:
    try:
        records = json.loads(raw)
    except ValueError:
        raise invalid("'records' must be a JSON list of records encoded as a string.") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise invalid("'records' must be a JSON list of records encoded as a string.")
    for index, record in enumerate(records):
        if not isinstance(record.get("inputs", {}), dict):
            raise invalid(f"records[{index}].inputs must be a JSON object.")
        for field in ("expectations", "tags"):
            if record.get(field) is not None and not isinstance(record[field], dict):
                raise invalid(f"records[{index}].{field} must be a JSON object.")
    return records


def _source(record: dict, index: int) -> tuple[dict | None, str | None, str | None]:
    """(source document, source_id, source_type) of a new record."""
    source = record.get("source")
    if not source:
        return None, None, None
    if not isinstance(source, dict):
        raise invalid(f"records[{index}].source must be a JSON object.")
    source_type = str(source.get("source_type") or "UNSPECIFIED").upper()
    if source_type not in SOURCE_TYPES:
        raise invalid(f"Invalid dataset record source type: {source_type}. Valid source types: {list(SOURCE_TYPES)}")
    data = source.get("source_data") or {}
    if not isinstance(data, dict):
        raise invalid(f"records[{index}].source.source_data must be a JSON object.")
    source_id = data.get("trace_id") if source_type == "TRACE" else data.get("source_id")
    return {"source_type": source_type, "source_data": data}, source_id, source_type


def _dumps(value) -> str | None:
    return None if value is None else json.dumps(value)


def _loads(text: str | None):
    return None if text is None else json.loads(text)


def upsert(conn: Connection, project_id: int, dataset_id: str, records: list[dict]) -> tuple[int, int]:
    dataset = get_row(conn, project_id, dataset_id)
    now = now_ms()
    by_hash: dict[str, dict] = {}
    for index, record in enumerate(records):
        inputs = record.get("inputs", {})
        key = input_hash(inputs)
        if key in by_hash:  # the same inputs twice in one request: the later one updates the first
            by_hash[key]["extra"].append(record)
            continue
        by_hash[key] = {"record": record, "index": index, "inputs": inputs, "extra": []}
    existing = {}
    hashes = list(by_hash)
    for start in range(0, len(hashes), 500):
        chunk = hashes[start:start + 500]
        for row in conn.execute(select(t).where(t.c.dataset_id == dataset_id, t.c.input_hash.in_(chunk))):
            existing[row.input_hash] = row
    inserted = updated = 0
    updated_by = None
    new_rows, merged = [], []
    for key, entry in by_hash.items():
        record = entry["record"]
        for item in [record, *entry["extra"]]:
            tags = item.get("tags") or {}
            if USER_TAG in tags:
                updated_by = tags[USER_TAG]
        if key in existing:
            merged.append(_merged_existing(existing[key], [record, *entry["extra"]], now))
            updated += 1 + len(entry["extra"])
            continue
        source, source_id, source_type = _source(record, entry["index"])
        fields = {"outputs": record.get("outputs", {}), "expectations": record.get("expectations"),
                  "tags": dict(record.get("tags") or {})}
        for extra in entry["extra"]:
            _merge_fields(fields, extra)
        creator = (record.get("tags") or {}).get(USER_TAG)
        new_rows.append({
            "dataset_record_id": f"{RECORD_ID_PREFIX}{uuid.uuid4().hex}", "dataset_id": dataset_id,
            "input_hash": key, "inputs": json.dumps(entry["inputs"]), "outputs": _dumps(fields["outputs"]),
            "expectations": _dumps(fields["expectations"]), "tags": json.dumps(fields["tags"]),
            "source": _dumps(source), "source_id": None if source_id is None else str(source_id)[:255],
            "source_type": source_type, "created_time": now, "last_update_time": now,
            "created_by": creator, "last_updated_by": creator,
        })
        inserted += 1
        updated += len(entry["extra"])
    if merged:
        conn.execute(_UPDATE_RECORD, merged)
    if new_rows:
        conn.execute(insert(t), new_rows)
    count = conn.execute(select(func.count()).select_from(t).where(t.c.dataset_id == dataset_id)).scalar_one()
    values = {"last_update_time": now, "last_updated_by": updated_by, "digest": digest(dataset.name, now)}
    schema = updated_schema(dataset.schema, records)
    if schema is not None:
        values["schema"] = json.dumps(schema)
    if count:
        values["profile"] = json.dumps({"num_records": count})
    conn.execute(update(evaluation_datasets).where(evaluation_datasets.c.dataset_id == dataset_id).values(**values))
    return inserted, updated


def _merge_fields(fields: dict, record: dict) -> None:
    if "outputs" in record:
        fields["outputs"] = record["outputs"]
    if record.get("expectations"):
        fields["expectations"] = {**(fields["expectations"] or {}), **record["expectations"]}
    if record.get("tags"):
        fields["tags"] = {**(fields["tags"] or {}), **record["tags"]}


def _merged_existing(row, records: list[dict], now: int) -> dict:
    """The parameters of the UPDATE (_UPDATE_RECORD) that merges `records` into a stored record."""
    fields = {"outputs": _loads(row.outputs), "expectations": _loads(row.expectations), "tags": _loads(row.tags)}
    last_updated_by = row.last_updated_by
    for record in records:
        _merge_fields(fields, record)
        last_updated_by = (record.get("tags") or {}).get(USER_TAG, last_updated_by)
    return {"record_id": row.dataset_record_id, "new_outputs": _dumps(fields["outputs"]),
            "new_expectations": _dumps(fields["expectations"]), "new_tags": _dumps(fields["tags"]),
            "now": now, "updated_by": last_updated_by}


# One statement for every merged record of a request (executemany).
_UPDATE_RECORD = update(t).where(t.c.dataset_record_id == bindparam("record_id")).values(
    outputs=bindparam("new_outputs"), expectations=bindparam("new_expectations"), tags=bindparam("new_tags"),
    last_update_time=bindparam("now"), last_updated_by=bindparam("updated_by"),
)


def _field_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for kind, name in ((int, "integer"), (float, "float"), (str, "string"), (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return name
    return "unknown"


def updated_schema(existing: str | None, records: list[dict]) -> dict | None:
    """The field types seen in inputs, outputs and expectations, first type seen wins (as MLflow)."""
    if not records and not existing:
        return None
    schema = json.loads(existing) if existing else {"inputs": {}, "outputs": {}, "expectations": {}, "version": "1.0"}
    for record in records:
        for key, value in (record.get("inputs") or {}).items():
            schema["inputs"].setdefault(key, _field_type(value))
        outputs = record.get("outputs")
        if isinstance(outputs, dict):
            if isinstance(schema["outputs"], dict):
                for key, value in outputs.items():
                    schema["outputs"].setdefault(key, _field_type(value))
        elif outputs is not None and not schema["outputs"]:
            schema["outputs"] = _field_type(outputs)
        for key, value in (record.get("expectations") or {}).items():
            schema["expectations"].setdefault(key, _field_type(value))
    return schema


@dataclass(frozen=True)
class DatasetRecord:
    """One record; inputs, outputs, expectations and source are the client's JSON values, decoded
    (None: not stored)."""

    dataset_record_id: str
    dataset_id: str
    inputs: Any
    created_time: int
    last_update_time: int
    tags: dict
    outputs: Any = None
    expectations: Any = None
    source: dict | None = None
    source_id: str | None = None
    source_type: str | None = None
    created_by: str | None = None
    last_updated_by: str | None = None


def _record(row) -> DatasetRecord:
    return DatasetRecord(
        dataset_record_id=row.dataset_record_id, dataset_id=row.dataset_id, inputs=json.loads(row.inputs),
        created_time=row.created_time, last_update_time=row.last_update_time, tags=_loads(row.tags) or {},
        outputs=_loads(row.outputs), expectations=_loads(row.expectations), source=_loads(row.source),
        source_id=row.source_id, source_type=row.source_type, created_by=row.created_by,
        last_updated_by=row.last_updated_by,
    )


def _decode_cursor(token: str) -> tuple[int, str]:
    try:
        created, record_id = base64.b64decode(token.encode(), validate=True).decode().split(":", 1)
        return int(created), record_id
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid(f"Invalid page token: {token[:100]}") from None


def page(conn: Connection, project_id: int, dataset_id: str, max_results: int | None,
         page_token: str | None) -> tuple[list[DatasetRecord], str | None]:
    """One page in (created_time, dataset_record_id) order; the token is MLflow's cursor
    (base64 of "created_time:record_id"). Pages hold at most MAX_PAGE records."""
    get_row(conn, project_id, dataset_id)
    if max_results is not None and max_results < 0:
        raise invalid(f"Invalid value for max_results: {max_results}. It must be a positive integer.")
    limit = min(max_results or MAX_PAGE, MAX_PAGE)
    query = select(t).where(t.c.dataset_id == dataset_id)
    if page_token:
        created, record_id = _decode_cursor(page_token)
        query = query.where(or_(t.c.created_time > created,
                                and_(t.c.created_time == created, t.c.dataset_record_id > record_id)))
    rows = conn.execute(query.order_by(t.c.created_time, t.c.dataset_record_id).limit(limit + 1)).all()
    token = None
    if len(rows) > limit:
        rows = rows[:limit]
        token = base64.b64encode(f"{rows[-1].created_time}:{rows[-1].dataset_record_id}".encode()).decode()
    return [_record(r) for r in rows], token


def delete_records(conn: Connection, project_id: int, dataset_id: str, record_ids: list[str]) -> int:
    get_row(conn, project_id, dataset_id)
    deleted = 0
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start:start + 500]
        deleted += conn.execute(
            delete(t).where(t.c.dataset_id == dataset_id, t.c.dataset_record_id.in_(chunk))).rowcount
    if deleted:
        count = conn.execute(select(func.count()).select_from(t).where(t.c.dataset_id == dataset_id)).scalar_one()
        conn.execute(update(evaluation_datasets).where(evaluation_datasets.c.dataset_id == dataset_id)
                     .values(profile=json.dumps({"num_records": count} if count else None)))
    return deleted
