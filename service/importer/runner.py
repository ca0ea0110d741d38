"""The import, phase by phase: experiments, runs (in parallel), logged models, the model registry."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from mltracker.service.errors import MlflowError
from mltracker.service.importer.batching import batch_size, runs_since
from mltracker.service.importer.context import ImportContext
from mltracker.service.importer.experiments_writer import import_experiment
from mltracker.service.importer.models_writer import import_logged_model, import_registered_model
from mltracker.service.importer.progress import Progress
from mltracker.service.importer.runs_writer import import_runs
from mltracker.service.importer.source import RouteUnavailable, SourceError


@dataclass(frozen=True)
class ImportOptions:
    experiments: tuple[str, ...] = ()
    since_ms: int | None = None
    workers: int = 4
    models: bool = True


@dataclass
class _Pool:
    """A thread pool that accepts at most a few tasks beyond its workers: the runs of a page are
    handed out as workers free up, so memory stays flat whatever the number of runs."""
    workers: int
    executor: ThreadPoolExecutor = field(init=False)
    slots: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self):
        self.executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="import")
        self.slots = threading.BoundedSemaphore(self.workers * 2)

    def submit(self, fn, *args) -> None:
        self.slots.acquire()
        future = self.executor.submit(fn, *args)
        future.add_done_callback(lambda _: self.slots.release())

    def close(self, cancel_pending: bool = False) -> None:
        """Wait for the batches being copied; with cancel_pending (Ctrl-C), drop those not started."""
        self.executor.shutdown(wait=True, cancel_futures=cancel_pending)


def run_import(ctx: ImportContext, options: ImportOptions, progress: Progress) -> None:
    experiment_map = _experiments(ctx, options, progress)
    _runs(ctx, options, progress, experiment_map)
    if options.models:
        _logged_models(ctx, progress, experiment_map)
        _registry(ctx, progress, experiment_map)


def _experiments(ctx: ImportContext, options: ImportOptions, progress: Progress) -> dict[str, int | None]:
    wanted = set(options.experiments)
    found = [e for e in ctx.source.experiments() if not wanted or e["name"] in wanted]
    for name in sorted(wanted - {e["name"] for e in found}):
        ctx.summary.failure(f"experiment {name!r}: not found on the source")
    phase = progress.phase("experiments", len(found))
    mapping = {}
    for experiment in found:
        mapping[str(experiment["experiment_id"])] = import_experiment(ctx, experiment)
        phase.advance()
    phase.finish()
    return mapping


def _runs(ctx: ImportContext, options: ImportOptions, progress: Progress, experiment_map: dict) -> None:
    phase = progress.phase("runs")
    ctx.source.close_read_ahead()  # what was not asked in advance by now is asked as usual
    workers = max(1, options.workers)
    pool = _Pool(workers)
    try:
        for source_id, target_id in experiment_map.items():
            for page in ctx.source.run_pages(source_id):
                wanted = runs_since(page, options.since_ms)
                if len(wanted) < len(page):
                    ctx.summary.add("runs_skipped", len(page) - len(wanted))
                    phase.advance(len(page) - len(wanted))
                size = batch_size(len(wanted), workers)
                for start in range(0, len(wanted), size):
                    pool.submit(_run_batch, ctx, wanted[start:start + size], target_id, phase)
        pool.close()
    except BaseException:  # Ctrl-C: the batches under way finish (their runs stay resumable), no new one starts
        pool.close(cancel_pending=True)
        raise
    finally:
        ctx.source.close_read_ahead(drop=True)
    phase.finish()


def _run_batch(ctx: ImportContext, runs: list[dict], target_id, phase) -> None:
    try:
        import_runs(ctx, runs, target_id)
    except Exception as exc:  # noqa: BLE001 - one batch's failure must not stop the others; a rerun resumes it
        for run in runs:
            ctx.summary.failure(f"run {run['info'].get('run_id')}: {type(exc).__name__}: {exc}")
    finally:
        phase.advance(len(runs))


def _logged_models(ctx: ImportContext, progress: Progress, experiment_map: dict) -> None:
    if not experiment_map:
        return
    phase = progress.phase("logged models")
    try:
        for model in ctx.source.logged_models(list(experiment_map)):
            try:
                import_logged_model(ctx, model, {k: v for k, v in experiment_map.items() if v is not None})
            except (SourceError, OSError) as exc:
                ctx.summary.failure(f"logged model {model['info'].get('model_id')}: {exc}")
            phase.advance()
    except RouteUnavailable:
        ctx.summary.note("the source has no logged models API (MLflow 3): none copied")
    phase.finish()


def _registry(ctx: ImportContext, progress: Progress, experiment_map: dict) -> None:
    phase = progress.phase("registered models")
    mapping = {k: v for k, v in experiment_map.items() if v is not None}
    try:
        for registered in ctx.source.registered_models():
            try:
                versions = _versions(ctx, registered)
                import_registered_model(ctx, registered, versions, mapping)
            except (SourceError, OSError) as exc:
                ctx.summary.failure(f"registered model {registered.get('name')!r}: {exc}")
            except MlflowError as exc:
                ctx.summary.conflict(f"registered model {registered.get('name')!r}: {exc.message}")
            phase.advance()
    except RouteUnavailable:
        ctx.summary.note("the source has no model registry search: no registered models copied")
    phase.finish()


def _versions(ctx: ImportContext, registered: dict) -> list[dict]:
    try:
        return list(ctx.source.model_versions(registered["name"]))
    except RouteUnavailable:
        # GitLab's built-in registry has no version search, and lists every version of a model as
        # its "latest_versions" (lib/api/entities/ml/mlflow/registered_model.rb).
        ctx.summary.note("the source has no model version search: versions read from each model's "
                         "latest_versions (every version on GitLab; the latest per stage on MLflow)")
        versions = registered.get("latest_versions") or []
        for version in versions:
            if not str(version.get("version", "")).isdigit():
                ctx.summary.failure(f"registered model {registered['name']!r}: version {version.get('version')!r} "
                                    "is not a version number")
        return [v for v in versions if str(v.get("version", "")).isdigit()]
