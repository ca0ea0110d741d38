"""What to do with one source item, given the target store and the import's progress ledger.

- not in the ledger, absent from the target                 → COPY
- in the ledger as started (an interrupted import)           → RESUME
- done, and the source still says the same (fingerprint)     → UNCHANGED
- done, but the source has changed since                     → RESUME (additive: new points, tags…)
- not in the ledger, present in the target with the same data → ADOPT (recorded as done, nothing written)
- not in the ledger, present with other data or elsewhere    → CONFLICT (reported, never overwritten)

"The same data" includes the status, end time and lifecycle stage: a run left unfinished by an import
from the same server under another URL (the ledger is kept per source URL) must not be adopted as done.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import Connection, select

from mltracker.service.db.schema import params, runs, tags
from mltracker.service.importer.ledger import DONE, Entry
from mltracker.service.tracking.experiments import ACTIVE, DELETED
from mltracker.service.tracking.runs import RUN_STATUSES

# Tags the import itself may rewrite (CI links), left out when comparing a present run with the source.
REWRITTEN_TAG_PREFIX = "gitlab."


def final_status(info: dict) -> str:
    """The status a copied run ends with (a status our store does not know becomes FINISHED)."""
    return info["status"] if info.get("status") in RUN_STATUSES else "FINISHED"


def final_stage(info: dict) -> str:
    """The lifecycle stage a copied run ends with: deleted runs stay deleted."""
    return DELETED if info.get("lifecycle_stage") == DELETED else ACTIVE


class Action(Enum):
    COPY = "copy"
    RESUME = "resume"
    UNCHANGED = "unchanged"
    ADOPT = "adopt"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""


def decide(entry: Entry | None, fingerprint: str, present: bool) -> Decision | None:
    """The decision from the ledger alone; None when the present item must be compared."""
    if entry is not None:
        if not present:
            return Decision(Action.RESUME if entry.state != DONE else Action.COPY)
        if entry.state == DONE and entry.fingerprint == fingerprint:
            return Decision(Action.UNCHANGED)
        return Decision(Action.RESUME)
    return None if present else Decision(Action.COPY)


def plan_run(conn: Connection, project_id: int, entry: Entry | None, fingerprint: str, run: dict,
             target_experiment_id: int | None) -> Decision:
    run_id = run["info"]["run_id"]
    row = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).first()
    decision = decide(entry, fingerprint, row is not None)
    if decision is not None:
        if row is not None and row.project_id != project_id:
            return Decision(Action.CONFLICT, f"run {run_id} belongs to another project")
        return decision
    if row.project_id != project_id:
        return Decision(Action.CONFLICT, f"run {run_id} exists in another project")
    if target_experiment_id is not None and row.experiment_id != target_experiment_id:
        return Decision(Action.CONFLICT, f"run {run_id} exists in another experiment (id {row.experiment_id})")
    differences = _run_differences(conn, row, run)
    if differences:
        return Decision(Action.CONFLICT, f"run {run_id} exists with different {', '.join(differences)}")
    return Decision(Action.ADOPT)


def _run_differences(conn: Connection, row, run: dict) -> list[str]:
    info, data = run["info"], run.get("data") or {}
    found = []
    if int(info.get("start_time") or 0) != row.start_time:
        found.append("start time")
    if final_status(info) != row.status:
        found.append("status")
    if info.get("end_time") is not None and int(info["end_time"]) != row.end_time:
        found.append("end time")
    if final_stage(info) != row.lifecycle_stage:
        found.append("lifecycle stage")
    stored_params = dict(conn.execute(select(params.c.key, params.c.value).where(params.c.run_uuid == row.run_uuid)).all())
    if stored_params != {p["key"]: p.get("value", "") for p in data.get("params") or []}:
        found.append("params")
    stored_tags = dict(conn.execute(select(tags.c.key, tags.c.value).where(tags.c.run_uuid == row.run_uuid)).all())
    source_tags = {t["key"]: t.get("value", "") for t in data.get("tags") or []}
    if _comparable(stored_tags) != _comparable(source_tags):
        found.append("tags")
    return found


def _comparable(items: dict) -> dict:
    return {k: v for k, v in items.items() if not k.startswith(REWRITTEN_TAG_PREFIX)}
