"""Runs copied into the target, keeping their ids: the run row, params and tags, full metric
histories, dataset and model inputs/outputs, artifacts, then its final status and lifecycle stage.

The run row is written as active and RUNNING together with the ledger's "started" entry, and takes
its final status, end time and lifecycle stage (deleted runs stay deleted) in the same transaction
that marks the entry done: until then the run is visibly unfinished, and a rerun resumes it. The
runs of a batch share these two transactions (one run refused by our store: run by run).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select, update

from mltracker.service.artifacts.paths import join_key
from mltracker.service.db.schema import runs
from mltracker.service.errors import MlflowError
from mltracker.service.importer import ledger as lg
from mltracker.service.importer.artifacts_copy import copy_tree, proxied_path
from mltracker.service.importer.batching import metric_keys
from mltracker.service.importer.context import ImportContext
from mltracker.service.importer.metrics_copy import copy_histories
from mltracker.service.importer.planner import Action, final_stage, final_status, plan_run
from mltracker.service.linking.links import record_link
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking.clock import now_ms
from mltracker.service.tracking.inputs import log_dataset_inputs, log_models
from mltracker.service.tracking.runs import Batch, write_batch

def run_fingerprint(run: dict) -> str:
    """What the source says about the run, short of the histories and artifacts behind it."""
    return lg.fingerprint({k: run.get(k) for k in ("info", "data", "inputs", "outputs")})


def import_runs(ctx: ImportContext, batch: list[dict], target_experiment_id: int | None) -> None:
    """A batch of runs of one experiment: planned together, their histories read together, their
    rows written in a few statements and transactions per batch rather than per run."""
    to_copy = []
    for run, planned in zip(batch, _plan_all(ctx, batch, target_experiment_id)):
        if planned is not None:
            to_copy.append((run, *planned))
    started = [(run, fingerprint, action, artifact_uri) for (run, fingerprint, action), artifact_uri
               in _together(ctx, to_copy, lambda conn, items: _start(conn, ctx, [run for run, *_ in items],
                                                                     target_experiment_id))]
    finishing = []
    # The artifacts are copied while the histories are read: the history requests keep the source
    # busy for long stretches, the artifact requests mostly wait on round trips.
    artifacts = ThreadPoolExecutor(1, thread_name_prefix="import-artifacts")
    try:
        copies = [(run, fingerprint, action, artifacts.submit(_copy_artifacts_and_link, ctx, run, artifact_uri))
                  for run, fingerprint, action, artifact_uri in started]
        copy_histories(ctx, {run["info"]["run_id"]: metric_keys(run) for run, *_ in started})
        for run, fingerprint, action, copy in copies:
            try:
                finishing.append((run, fingerprint, action, copy.result()))
            except MlflowError as exc:
                ctx.summary.conflict(f"run {run['info']['run_id']}: {exc.message}")
    finally:
        artifacts.shutdown(wait=True, cancel_futures=True)  # a failed batch copies no more files
    for (_, _, action, link), _ in _together(
            ctx, finishing, lambda conn, items: _finish(conn, ctx, items, target_experiment_id)):
        ctx.summary.add("runs_resumed" if action is Action.RESUME else "runs_copied")
        if link is not None:
            ctx.summary.add("ci_links")


def _together(ctx: ImportContext, items: list[tuple], write) -> list[tuple]:
    """(item, result) for each item whose write went through. write(conn, items) writes them all
    and returns one result per item: first in one transaction; when our store refuses one run's
    data (a param logged with another value…), run by run, that run reported as a conflict and
    the others written."""
    if not items:
        return []
    try:
        with ctx.db.write() as conn:
            return list(zip(items, write(conn, items)))
    except MlflowError as exc:
        if len(items) == 1:
            ctx.summary.conflict(f"run {items[0][0]['info']['run_id']}: {exc.message}")
            return []
    return [done for item in items for done in _together(ctx, [item], write)]


def _plan_all(ctx: ImportContext, batch: list[dict], target_experiment_id: int | None) -> list:
    """Per run, (fingerprint, COPY or RESUME) when it is to be written, else None: one read
    transaction for the whole batch."""
    for run in batch:
        info = run["info"]
        info["run_id"] = info.get("run_id") or info["run_uuid"]
    if ctx.db is None:
        return [_plan_without_store(ctx, run) for run in batch]
    fingerprints = [run_fingerprint(run) for run in batch]
    with ctx.db.read() as conn:
        decisions = [plan_run(conn, ctx.project_id, ctx.ledger.get(conn, lg.RUN, run["info"]["run_id"]),
                              fingerprint, run, target_experiment_id)
                     for run, fingerprint in zip(batch, fingerprints)]
    return [_act_on(ctx, *planned) for planned in zip(batch, fingerprints, decisions)]


def _plan_without_store(ctx: ImportContext, run: dict) -> None:
    ctx.summary.plan(f"copy run {run['info']['run_id']}")
    ctx.summary.add("runs_copied")
    return None


def _act_on(ctx: ImportContext, run: dict, fingerprint: str, decision) -> tuple[str, Action] | None:
    run_id = run["info"]["run_id"]
    if decision.action is Action.CONFLICT:
        ctx.summary.conflict(decision.reason)
        return None
    if decision.action is Action.UNCHANGED:
        ctx.summary.add("runs_unchanged")
        return None
    if ctx.dry_run:
        ctx.summary.plan(f"{decision.action.value} run {run_id}" + (
            " (present with the same data: recorded as imported)" if decision.action is Action.ADOPT else ""))
        ctx.summary.add("runs_resumed" if decision.action is Action.RESUME else "runs_copied")
        return None
    if decision.action is Action.ADOPT:
        with ctx.db.write() as conn:
            ctx.ledger.record(conn, lg.RUN, run_id, run_id, lg.DONE, fingerprint)
        ctx.summary.add("runs_unchanged")
        return None
    return fingerprint, decision.action


def _copy_artifacts_and_link(ctx: ImportContext, run: dict, artifact_uri: str):
    """Copies the run's artifacts; returns its CI link (or None)."""
    info, data = run["info"], run.get("data") or {}
    run_id = info["run_id"]
    if ctx.copy_artifacts:
        source_root = proxied_path(info.get("artifact_uri"))
        if source_root is None:
            ctx.summary.note(f"artifacts not served by the source's artifact proxy were not copied "
                             f"(e.g. run {run_id}: {info.get('artifact_uri')})")
        else:
            target_root = join_key(str(ctx.project_id), proxied_path(artifact_uri))
            copy_tree(ctx.source, ctx.storage, source_root, target_root, ctx.summary)
    return _ci_link(ctx, run_id, {t["key"]: t.get("value", "") for t in data.get("tags") or []})


def _start(conn, ctx: ImportContext, batch: list[dict], experiment_id: int) -> list[str]:
    """Insert the runs (or make an earlier attempt's rows writable again) with their params and
    tags; returns their artifact URIs."""
    run_ids = [run["info"]["run_id"] for run in batch]
    present = dict(conn.execute(select(runs.c.run_uuid, runs.c.artifact_uri).where(runs.c.run_uuid.in_(run_ids))).all())
    uris = dict(present)
    new = [run["info"] for run in batch if run["info"]["run_id"] not in present]
    if new:
        location = exps.get_experiment_row(conn, ctx.project_id, experiment_id).artifact_location
        uris.update((info["run_id"], f"{location}/{info['run_id']}/artifacts") for info in new)
        conn.execute(runs.insert(), [dict(
            run_uuid=info["run_id"], experiment_id=experiment_id, project_id=ctx.project_id,
            name=info.get("run_name") or "", user_id=info.get("user_id") or "", status="RUNNING",
            start_time=int(info.get("start_time") or 0), lifecycle_stage=exps.ACTIVE,
            artifact_uri=uris[info["run_id"]],
        ) for info in new])
    if present:
        conn.execute(update(runs).where(runs.c.run_uuid.in_(list(present)))
                     .values(lifecycle_stage=exps.ACTIVE, deleted_time=None))
    for run in batch:
        data = run.get("data") or {}
        run_tags = [{"key": t["key"], "value": t.get("value", "")} for t in data.get("tags") or []]
        run_params = [{"key": p["key"], "value": p.get("value", "")} for p in data.get("params") or []]
        if run_tags or run_params:
            write_batch(conn, ctx.project_id, Batch(run["info"]["run_id"], [], [], run_params, run_tags))
    ctx.ledger.record_many(conn, lg.RUN, [(run_id, run_id, None) for run_id in run_ids], lg.STARTED)
    return [uris[run_id] for run_id in run_ids]


def _copy_inputs_outputs(conn, run: dict, experiment_id: int) -> None:
    run_id = run["info"]["run_id"]
    inputs, outputs = run.get("inputs") or {}, run.get("outputs") or {}
    datasets = [d for d in inputs.get("dataset_inputs") or [] if isinstance(d.get("dataset"), dict)]
    model_inputs = inputs.get("model_inputs") or []
    model_outputs = outputs.get("model_outputs") or []
    if datasets or model_inputs or model_outputs:
        log_dataset_inputs(conn, experiment_id, run_id, datasets)
        log_models(conn, run_id, model_inputs, "input")
        log_models(conn, run_id, model_outputs, "output")


def _ci_link(ctx: ImportContext, run_id: str, run_tags: dict[str, str]):
    if ctx.linker is None:
        return None
    try:
        return ctx.linker.link_for(ctx.project_id, run_tags)
    except MlflowError as exc:
        ctx.summary.note(f"run {run_id} kept its gitlab.* tags without a CI link: {exc.message}")
        return None


def _finish(conn, ctx: ImportContext, items: list[tuple], experiment_id: int) -> list[None]:
    """Inputs and outputs, the final status and lifecycle stage, the CI link and the ledger's done
    entry of each (run, fingerprint, action, link), in the caller's transaction."""
    for run, _, _, link in items:
        info = run["info"]
        run_id = info["run_id"]
        stage = final_stage(info)
        _copy_inputs_outputs(conn, run, experiment_id)
        values = dict(status=final_status(info), end_time=info.get("end_time"), lifecycle_stage=stage,
                      deleted_time=now_ms() if stage == exps.DELETED else None)
        if info.get("run_name"):
            values["name"] = info["run_name"]
        conn.execute(update(runs).where(runs.c.run_uuid == run_id).values(**values))
        if link is not None:
            record_link(conn, ctx.project_id, run_id, link)
    ctx.ledger.record_many(conn, lg.RUN, [(run["info"]["run_id"], run["info"]["run_id"], fingerprint)
                                          for run, fingerprint, _, _ in items], lg.DONE)
    return [None] * len(items)
