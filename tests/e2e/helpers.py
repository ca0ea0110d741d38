"""Shared helpers for the end-to-end tests: running train.py like a user, tables of searches."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI, free_port, wait_for_http

HERE = Path(__file__).resolve().parent
TRAIN_SCRIPT = HERE / "train.py"
REPO = HERE.parent.parent
# E2E_AGAINST_MLFLOW_SERVER=1: run the e2e tests against the real mlflow server instead, to check
# the tests themselves (see conftest.py).
REFERENCE_MODE = os.environ.get("E2E_AGAINST_MLFLOW_SERVER") == "1"


@contextmanager
def tracking_uri_env(uri: str):
    """MLFLOW_TRACKING_URI as a user's shell would set it: the stock client resolves
    `mlflow-artifacts:` URIs (artifact proxying) and `mlflow.search_runs` against it."""
    import mlflow

    old_env = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        if old_env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = old_env
        mlflow.set_tracking_uri(None)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def mltracker_only(reason: str):
    """Mark a test that checks mltracker-specific behaviour (skipped in reference mode only)."""
    return pytest.mark.skipif(REFERENCE_MODE, reason=f"mltracker-only: {reason}")


# Logical names used by the tables below; "unnamed" is the run train.py starts without a name.
ACTIVE = ["baseline", "baseline-fold-0", "baseline-fold-1", "unnamed", "diverged", "interrupted", "Tuned-Model"]
DELETED = ["discarded"]
NAMED_RUNS = [name for name in ACTIVE + DELETED if name != "unnamed"]


def user_env(tracking_uri: str, **extra: str) -> dict:
    """The environment of a user's shell: the tracking URI, nothing of the server's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLTRACKER_", "MLFLOW_"))}
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_script(python: str, script: Path, tracking_uri: str, cwd: Path, timeout: float = 300, **extra) -> dict:
    """Run a user script as a subprocess; return the JSON summary on its last stdout line."""
    proc = subprocess.run(
        [python, str(script)], cwd=cwd, env=user_env(tracking_uri, **extra),
        capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{script.name} failed with exit code {proc.returncode}\n--- stdout\n{proc.stdout[-5000:]}"
            f"\n--- stderr\n{proc.stderr[-10000:]}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_train(tracking_uri: str, experiment_name: str, cwd: Path) -> dict:
    return run_script(sys.executable, TRAIN_SCRIPT, tracking_uri, cwd, E2E_EXPERIMENT_NAME=experiment_name)


@dataclass
class Trained:
    """What train.py produced on one server, as seen through the stock client."""
    tracking_uri: str
    summary: dict
    runs: dict  # logical name -> mlflow.entities.Run (fetched right after training)

    @property
    def experiment_id(self) -> str:
        return self.summary["experiment_id"]

    def id(self, logical: str) -> str:
        return self.summary["runs"][logical]

    def logical_name(self, run_id: str) -> str:
        for logical, rid in self.summary["runs"].items():
            if rid == run_id:
                return logical
        return f"<foreign run {run_id}>"

    def placeholders(self) -> dict:
        """Values a filter in the tables may refer to as {name}."""
        values = dict(self.summary["runs"])
        values.update({f"start_{k}": r.info.start_time for k, r in self.runs.items()})
        values["train_digest"] = self.summary["train_digest"]
        values["eval_digest"] = self.summary["eval_digest"]
        return values


def fetch_trained(client, tracking_uri: str, summary: dict) -> Trained:
    runs = {logical: client.get_run(run_id) for logical, run_id in summary["runs"].items()}
    return Trained(tracking_uri, summary, runs)


def search_names(client, trained: Trained, filter_string="", order_by=None, run_view_type=None,
                 max_results=1000, page_token=None) -> list[str]:
    from mlflow.entities import ViewType

    runs = client.search_runs(
        [trained.experiment_id], filter_string=filter_string.format(**trained.placeholders()),
        run_view_type=run_view_type or ViewType.ACTIVE_ONLY, max_results=max_results,
        order_by=order_by, page_token=page_token,
    )
    return [trained.logical_name(r.info.run_id) for r in runs]


# ---------------------------------------------------------------------------------------------
# search_runs filters -> the active runs they match (order irrelevant). Placeholders: run ids by
# logical name ({baseline}), start times ({start_diverged}), dataset digests ({train_digest}).
RUN_FILTERS: list[tuple[str, set[str]]] = [
    ("", set(ACTIVE)),
    # metrics: every numeric comparator, quoted and backticked keys, odd values
    ("metrics.loss > 0.5", {"diverged", "interrupted"}),
    ("metrics.loss >= 0.3", {"unnamed", "diverged", "interrupted"}),
    ("metrics.loss = 0.2", {"baseline"}),
    ("metrics.loss != 0.2", {"unnamed", "diverged", "interrupted", "Tuned-Model"}),
    ("metrics.loss < 0.2", {"Tuned-Model"}),
    ("metrics.loss <= 0.2", {"baseline", "Tuned-Model"}),
    ("metrics.`val loss` < 0.1", {"Tuned-Model"}),
    ('metrics."val loss" >= 0.25', {"baseline"}),
    ("metric.accuracy > 0.9", {"baseline", "Tuned-Model"}),
    ("metrics.pos_inf > 1000000", {"unnamed"}),
    ("metrics.neg_inf < -1000000", {"unnamed"}),
    ("metrics.fold_score >= 0.85", {"baseline-fold-1"}),
    ("metrics.batch_loss = 0.81", {"baseline"}),
    # params: string comparators
    ("params.optimizer = 'sgd'", {"baseline", "diverged"}),
    ('params.optimizer = "sgd"', {"baseline", "diverged"}),
    ("params.optimizer != 'sgd'", {"unnamed", "interrupted", "Tuned-Model"}),
    ("params.optimizer LIKE 'adam%'", {"unnamed", "Tuned-Model"}),
    ("params.optimizer ILIKE 'adam%'", {"unnamed", "interrupted", "Tuned-Model"}),
    ("params.optimizer LIKE '_dam'", {"unnamed", "interrupted"}),
    ("params.`model.type` = 'cnn'", {"baseline"}),
    ("params.\"model.type\" LIKE '%former'", {"Tuned-Model"}),
    ("param.lr = '0.1'", {"baseline"}),
    ("parameters.lr = '0.001'", {"Tuned-Model"}),
    ("params.epochs IS NULL", {"baseline-fold-0", "baseline-fold-1", "interrupted"}),
    ("params.epochs IS NOT NULL", {"baseline", "unnamed", "diverged", "Tuned-Model"}),
    # tags
    ("tags.team = 'vision'", {"baseline", "diverged"}),
    ("tags.\"team\" = 'vision'", {"baseline", "diverged"}),
    ("tags.team ILIKE 'nlp'", {"unnamed", "Tuned-Model"}),
    ("tags.team LIKE 'n%'", {"unnamed"}),
    ("tags.team IS NULL", {"baseline-fold-0", "baseline-fold-1", "interrupted"}),
    ("tags.team IS NOT NULL", {"baseline", "unnamed", "diverged", "Tuned-Model"}),
    ("tags.`data-version` = 'v2'", {"Tuned-Model"}),
    ("tags.note LIKE '%first%'", {"baseline"}),
    ("tags.stage != 'dev'", {"unnamed", "Tuned-Model"}),
    ("tags.`mlflow.parentRunId` = '{baseline}'", {"baseline-fold-0", "baseline-fold-1"}),
    ("tags.mlflow.runName = 'diverged'", {"diverged"}),
    # attributes
    ("attributes.status = 'FAILED'", {"diverged"}),
    ("attributes.status != 'FINISHED'", {"diverged", "interrupted"}),
    ("attributes.run_name = 'baseline'", {"baseline"}),
    ("attributes.run_name LIKE 'baseline%'", {"baseline", "baseline-fold-0", "baseline-fold-1"}),
    ("attributes.run_name ILIKE 'tuned%'", {"Tuned-Model"}),
    ("attributes.`Run name` = 'interrupted'", {"interrupted"}),
    ("run_name = 'diverged'", {"diverged"}),
    ("attributes.run_id IN ('{baseline}', '{diverged}')", {"baseline", "diverged"}),
    ("attributes.run_id NOT IN ('{baseline}', '{unnamed}')",
     {"baseline-fold-0", "baseline-fold-1", "diverged", "interrupted", "Tuned-Model"}),
    ("attributes.run_id = '{interrupted}'", {"interrupted"}),
    ("attributes.start_time >= {start_diverged}", {"diverged", "interrupted", "Tuned-Model"}),
    ("attributes.start_time > {start_diverged}", {"interrupted", "Tuned-Model"}),
    ("attributes.created < {start_unnamed}", {"baseline", "baseline-fold-0", "baseline-fold-1"}),
    ("attributes.start_time = {start_unnamed}", {"unnamed"}),
    ("attributes.start_time != {start_unnamed}", set(ACTIVE) - {"unnamed"}),
    ("attributes.start_time <= {start_baseline}", {"baseline"}),
    ("attributes.end_time > 0", set(ACTIVE)),
    # datasets
    ("datasets.name = 'iris-train'", {"baseline", "unnamed", "diverged"}),
    ("datasets.context = 'eval'", {"baseline", "Tuned-Model"}),
    ("datasets.name IN ('iris-eval', 'nope')", {"baseline", "Tuned-Model"}),
    ("datasets.name NOT IN ('iris-train')", {"baseline", "Tuned-Model"}),
    ("datasets.digest = '{train_digest}'", {"baseline", "unnamed", "diverged"}),
    ("datasets.name LIKE 'iris%'", {"baseline", "unnamed", "diverged", "Tuned-Model"}),
    ("datasets.context ILIKE 'EVAL'", {"baseline", "Tuned-Model"}),
    # conjunctions
    ("params.optimizer = 'sgd' AND metrics.loss < 1", {"baseline"}),
    ("tags.team = 'vision' and attributes.status = 'FINISHED'", {"baseline"}),
    ("datasets.name = 'iris-train' AND datasets.context = 'training' AND params.lr = '0.01'", {"unnamed"}),
    ("metrics.loss > 100", set()),
]

# (filter, order_by, expected active runs in order). NULLs sort last in both directions and ties
# break by start_time DESC, as in MLflow's SQL store. Avoids keys whose order depends on the
# database collation (e.g. 'NLP' vs 'nlp'), since mltracker also runs on PostgreSQL here.
RUN_ORDERINGS: list[tuple[str, list[str], list[str]]] = [
    ("", [], ["Tuned-Model", "interrupted", "diverged", "unnamed", "baseline-fold-1", "baseline-fold-0",
              "baseline"]),
    ("", ["metrics.loss ASC"], ["Tuned-Model", "baseline", "unnamed", "interrupted", "diverged",
                                "baseline-fold-1", "baseline-fold-0"]),
    ("", ["metrics.loss DESC"], ["diverged", "interrupted", "unnamed", "baseline", "Tuned-Model",
                                 "baseline-fold-1", "baseline-fold-0"]),
    ("", ["metrics.loss"], ["Tuned-Model", "baseline", "unnamed", "interrupted", "diverged",
                            "baseline-fold-1", "baseline-fold-0"]),
    ("", ["metrics.`val loss` DESC"], ["baseline", "Tuned-Model", "interrupted", "diverged", "unnamed",
                                       "baseline-fold-1", "baseline-fold-0"]),
    ("", ["params.lr ASC"], ["Tuned-Model", "unnamed", "interrupted", "baseline", "diverged",
                             "baseline-fold-1", "baseline-fold-0"]),
    ("", ["params.lr DESC"], ["diverged", "baseline", "interrupted", "unnamed", "Tuned-Model",
                              "baseline-fold-1", "baseline-fold-0"]),
    ("", ["tags.stage ASC"], ["interrupted", "diverged", "baseline", "Tuned-Model", "unnamed",
                              "baseline-fold-1", "baseline-fold-0"]),
    ("", ["tags.stage DESC"], ["Tuned-Model", "unnamed", "interrupted", "diverged", "baseline",
                               "baseline-fold-1", "baseline-fold-0"]),
    ("", ["tags.stage ASC", "metrics.loss DESC"], ["diverged", "interrupted", "baseline", "unnamed",
                                                   "Tuned-Model", "baseline-fold-1", "baseline-fold-0"]),
    ("", ["attributes.start_time ASC"], ["baseline", "baseline-fold-0", "baseline-fold-1", "unnamed",
                                         "diverged", "interrupted", "Tuned-Model"]),
    ("", ["attributes.start_time DESC"], ["Tuned-Model", "interrupted", "diverged", "unnamed",
                                          "baseline-fold-1", "baseline-fold-0", "baseline"]),
    ("", ["attributes.status ASC"], ["diverged", "Tuned-Model", "unnamed", "baseline-fold-1",
                                     "baseline-fold-0", "baseline", "interrupted"]),
    ("", ["attributes.status DESC"], ["interrupted", "Tuned-Model", "unnamed", "baseline-fold-1",
                                      "baseline-fold-0", "baseline", "diverged"]),
    ("attributes.status != 'FINISHED'", ["attributes.run_name ASC"], ["diverged", "interrupted"]),
    ("attributes.status != 'FINISHED'", ["attributes.run_name DESC"], ["interrupted", "diverged"]),
    ("attributes.run_name LIKE 'baseline%'", ["attributes.run_name DESC"],
     ["baseline-fold-1", "baseline-fold-0", "baseline"]),
    ("attributes.run_name LIKE 'baseline%'", ["metrics.fold_score DESC"],
     ["baseline-fold-1", "baseline-fold-0", "baseline"]),
    ("params.optimizer = 'sgd'", ["attributes.end_time DESC"], ["diverged", "baseline"]),
    ("params.optimizer = 'sgd'", ["attributes.created ASC"], ["baseline", "diverged"]),
]

# Only for the differential test (both servers on SQLite, so collation-dependent orders and
# edge cases whose result we do not want to hard-code are compared with the real mlflow server).
EXTRA_DIFFERENTIAL_FILTERS = [
    "metrics.nan_metric != 0", "metrics.nan_metric > 0", "metrics.nan_metric = 0",
    "metrics.pos_inf = 0", "metrics.wild > 1", "params.optimizer LIKE 'Adam'",
    "params.optimizer ILIKE 'ADAM'", "tags.team = 'NLP'", "params.lr LIKE '0.0%'",
    "datasets.context != 'training'", "datasets.digest IN ('{train_digest}', '{eval_digest}')",
    "tags.mlflow.user != 'nobody'", "attributes.user_id != 'nobody'",
    "attributes.artifact_uri LIKE '%artifacts%'", "params.optimizer = ''", "tags.note = 'first try'",
    "metrics.loss = 12.25", "metrics.loss > 1e1", "metrics.loss >= -1", "params.lr = '0.1' AND",
]
EXTRA_DIFFERENTIAL_ORDER_BYS: list[tuple[str, list[str]]] = [
    ("", ["tags.team ASC"]), ("", ["tags.team DESC"]), ("", ["params.optimizer ASC"]),
    ("", ["params.optimizer DESC"]), ("attributes.run_id != '{unnamed}'", ["attributes.run_name ASC"]),
    ("", ["metrics.wild DESC"]), ("", ["metrics.nan_metric ASC"]),
    ("", ["metrics.pos_inf DESC", "metrics.neg_inf ASC"]), ("", ["attributes.end_time ASC"]),
    ("", ["params.`model.type` DESC"]), ("", ["tags.`data-version` ASC"]), ("", ["metrics.wild"]),
]

# Filters / order_bys MLflow rejects with INVALID_PARAMETER_VALUE (message fragment from MLflow).
BAD_RUN_FILTERS: list[tuple[str, str]] = [
    ("metrics.loss LIKE 1", "Invalid comparator"),
    ("metrics.loss LIKE '0.1'", "Expected numeric value type for metric"),
    ("params.lr > '0.1'", "Invalid comparator"),
    ("tags.team >= 'a'", "Invalid comparator"),
    ("attributes.status IN ('FAILED', 'KILLED')", "support"),
    ("attributes.start_time LIKE 1", "Invalid comparator"),
    ("datasets.name > 'a'", "Invalid comparator"),
    ("metrics.loss IS NULL", "IS NULL"),
    ("foo.bar = 'x'", "Invalid entity type"),
    ("attributes.nonexistent = 'x'", "Invalid attribute key"),
    ("datasets.size = 'x'", "Invalid"),
    ("metrics.loss = 'abc'", "Expected numeric value type"),
    ("params.lr = 0.1", "Expected a quoted string value for parameter"),
    ("tags.team = vision", "not quoted"),
    ("attributes.start_time = 'abc'", "Expected numeric value type"),
    ("metrics.loss >", "Invalid"),
    ("params.lr = '0.1' OR params.lr = '0.2'", "Invalid clause(s) in filter string"),
    ("(params.lr = '0.1')", "Invalid"),
]
BAD_ORDER_BYS: list[tuple[list[str], str]] = [
    (["metrics.loss SIDEWAYS"], "Invalid ordering key"),
    (["foo.bar ASC"], "Invalid"),
    (["attributes.nonexistent"], "Invalid"),
    (["metrics.loss ASC DESC"], "Invalid order_by clause"),
]


# ---------------------------------------------------------------------------------------------
# The real MLflow tracking server, as the reference implementation.

@dataclass
class ReferenceServer:
    url: str
    log_path: Path
    pid: int
    artifacts_destination: str
    env: dict

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def mlflow_server_cmd(tmp: Path, port: int) -> list[str]:
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    return [str(mlflow_bin), "server", "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db",
            "--artifacts-destination", str(tmp / "mlartifacts"), "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1"]


def start_mlflow_server(tmp: Path, extra_env: dict | None = None, start_timeout: float = 300):
    """Start `mlflow server` (SQLite + local artifacts, proxied); a context manager. `extra_env`:
    MLflow variables for the server (all others of the test process are left out)."""
    from contextlib import contextmanager

    @contextmanager
    def _run():
        port = free_port()
        log_path = tmp / f"mlflow-server-{port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRACKER_"))}
        env.update(extra_env or {})
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(mlflow_server_cmd(tmp, port), cwd=tmp, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_for_http(url + "/health", timeout=start_timeout, proc=proc)
            except Exception as exc:
                raise RuntimeError(f"mlflow server did not start ({exc}):\n{log_path.read_text()}") from None
            yield ReferenceServer(url, log_path, proc.pid, str(tmp / "mlartifacts"), env)
        finally:
            import signal

            try:
                os.killpg(proc.pid, signal.SIGTERM)  # the server and its own workers, nothing else
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    return _run()
