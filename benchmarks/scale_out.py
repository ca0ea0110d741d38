"""Scale-out, measured: 1 and then 2 `mltracker serve` replicas behind HAProxy, on one PostgreSQL and
one S3 (moto), with two `mltracker worker`s running the bot's jobs.

    .venv/bin/python benchmarks/scale_out.py                 # prints the table, appends it to RESULTS.md
    .venv/bin/python benchmarks/scale_out.py --seconds 10 --writers 6 --output -

What it checks besides throughput:
- every acknowledged log-batch point is in the database exactly once (nothing lost, nothing doubled),
  counted in SQL after each phase;
- an artifact uploaded through one replica downloads, byte for byte, through the balancer;
- webhooks for one merge request, delivered through the balancer (so they land on different
  replicas), and GitLab's retries of the same deliveries, leave exactly one bot report on the merge
  request (the GitLab stand-in of the test suite, tests/fakes/gitlab_bot_fake.py, records the notes).

Each replica runs one web worker, so "2 replicas" is twice the serving processes of "1 replica";
HAProxy (Debian's `haproxy`, `apt-get install haproxy`) balances round-robin over keep-alive
connections. The load is pre-encoded 1,000-point log-batch bodies from writer threads in a separate
process (the stock client's own cost would be the limit otherwise: see compare_mlflow.py's capacity).
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import multiprocessing
import os
import shutil
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager, redirect_stdout
from pathlib import Path
from urllib.parse import urlsplit

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
from servers import descendants, free_port, log, pg_admin, pg_dsn, proc_table  # noqa: E402

S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
KEYS, STEPS = 10, 100  # 1,000 points per log-batch body
T0 = 1_700_000_000_000


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


class Processes:
    """Subprocesses started here, each logging to a file in the work directory; all stopped at exit."""

    def __init__(self, workdir: Path):
        self.workdir, self.procs = workdir, []

    def start(self, name: str, cmd: list[str], env: dict | None = None) -> subprocess.Popen:
        out = open(self.workdir / f"{name}.log", "wb")
        proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
                                cwd=self.workdir)
        self.procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                self.stop(proc)


@contextmanager
def fresh_pg_database():
    name = f"mltracker_scale_{uuid.uuid4().hex[:10]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_dsn(name).replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def haproxy_config(port: int, backends: list[int]) -> str:
    servers = "\n".join(f"    server r{i} 127.0.0.1:{p} check inter 2s" for i, p in enumerate(backends))
    return f"""global
    maxconn 2048
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    option http-keep-alive
frontend tracking
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /health
{servers}
"""


# ---------------------------------------------------------------- the load: pre-encoded log-batch bodies

def _writer_process(url: str, token: str, run_ids: list[str], seconds: float, start_at: float, out) -> None:
    """Threads, one keep-alive connection and one run each, sending 1,000-point bodies until the deadline.
    Reports {run_id: [timestamps acknowledged]}: each body's points carry one unique timestamp."""
    split = urlsplit(url)
    path = split.path.rstrip("/") + "/api/2.0/mlflow/runs/log-batch"
    acknowledged: dict[str, list[int]] = {r: [] for r in run_ids}
    errors: list[str] = []

    def send(index: int, run_id: str) -> None:
        metrics = [{"key": f"k{k}", "value": s * 1e-3 + k, "timestamp": "@TS@", "step": s}
                   for k in range(KEYS) for s in range(STEPS)]
        parts = json.dumps({"run_id": run_id, "metrics": metrics}, separators=(",", ":")) \
            .replace('"@TS@"', "@TS@").encode().split(b"@TS@")
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        conn = http.client.HTTPConnection(split.hostname, split.port, timeout=120)
        seq = index * 10_000_000
        while time.time() < start_at:
            time.sleep(0.005)
        while time.time() < start_at + seconds:
            seq += 1
            stamp = T0 + seq
            try:
                conn.request("POST", path, body=str(stamp).encode().join(parts), headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                # Not acknowledged: the points may or may not be stored; the check counts only acks,
                # so a reconnect-and-continue keeps the accounting exact for "lost" but not "extra".
                conn.close()
                conn = http.client.HTTPConnection(split.hostname, split.port, timeout=120)
                errors.append("connection dropped")
                continue
            if response.status == 200:
                acknowledged[run_id].append(stamp)
            else:
                errors.append(f"{response.status} {data[:120]!r}")
        conn.close()

    threads = [threading.Thread(target=send, args=(i, r)) for i, r in enumerate(run_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put({"acknowledged": acknowledged, "errors": errors})


def drive_load(url: str, token: str, run_ids: list[str], processes: int, seconds: float) -> dict:
    """Writers in `processes` processes (the client side needs CPU too), started together."""
    queue = multiprocessing.Queue()
    start_at = time.time() + 1.0
    chunks = [run_ids[i::processes] for i in range(processes)]
    procs = [multiprocessing.Process(target=_writer_process, args=(url, token, chunk, seconds, start_at, queue))
             for chunk in chunks if chunk]
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 300) for _ in procs]
    for p in procs:
        p.join()
    acknowledged: dict[str, list[int]] = {}
    errors: list[str] = []
    for result in results:
        acknowledged.update(result["acknowledged"])
        errors.extend(result["errors"])
    batches = sum(len(v) for v in acknowledged.values())
    return {"acknowledged": acknowledged, "errors": errors, "points_per_s": batches * KEYS * STEPS / seconds,
            "batches": batches}


def stored_points(db_url: str, run_ids: list[str]) -> tuple[int, int, int]:
    """(rows, distinct (run, key, step, timestamp)) for the runs: equal when nothing is doubled; and
    the connections other processes hold open to the database (the replicas' and workers' pools)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT count(*), count(DISTINCT (run_uuid, key, step, timestamp)) FROM metrics "
                "WHERE run_uuid = ANY(:ids)"), {"ids": run_ids}).one()
            held = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND pid <> pg_backend_pid()")).scalar_one()
    finally:
        engine.dispose()
    return int(rows[0]), int(rows[1]), int(held)


# ---------------------------------------------------------------- where the CPU went

def cpu_snapshot(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each group (a process and its descendants), by every PostgreSQL
    process (the server is shared: other databases' work is in it too) and by this benchmark's
    reaped children (the load generator's processes, once joined)."""
    table = proc_table()
    snapshot = {name: sum(table[p][2] for p in descendants(table, root) if p in table)
                for name, root in groups.items()}
    snapshot["PostgreSQL (whole server)"] = sum(cpu for _, name, cpu in table.values() if name == "postgres")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    snapshot["load generator"] = children.ru_utime + children.ru_stime
    return snapshot


# ---------------------------------------------------------------- the world: GitLab stand-in, project, MR

class GitLabWorld:
    """The suite's GitLab stand-in with a project, a developer, a merge request and CI jobs."""

    BOT_USER_ID, BOT_TOKEN, BOT_NAME, SECRET = 9100, "glpat-bot-scale", "mltracker-bot", "scale-webhook-secret"

    def __init__(self, fake):
        self.fake = fake
        fake.reset()
        fake.add_user(id=self.BOT_USER_ID, username=self.BOT_NAME, admin=True)
        fake.add_token(token=self.BOT_TOKEN, user_id=self.BOT_USER_ID)
        self.project_id, self.dev_id = 4242, 4300
        fake.add_user(id=self.dev_id, username="dev")
        fake.add_project(id=self.project_id, visibility="private", members={self.dev_id: 30})
        self._next_id = 50_000

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def job_token(self, pipeline_id: int, ref: str, sha: str) -> tuple[int, str]:
        job_id = self.new_id()
        token = f"glcbt-scale-{job_id}"
        self.fake.add_job(id=job_id, project_id=self.project_id, pipeline_id=pipeline_id, user_id=self.dev_id,
                          ref=ref, sha=sha, status="running")
        self.fake.add_job_token(token=token, job_id=job_id)
        return job_id, token

    def server_env(self) -> dict:
        return {"MLTRACKER_GITLAB_URL": self.fake.url, "MLTRACKER_GITLAB_TOKEN": self.BOT_TOKEN,
                "MLTRACKER_WEBHOOK_SECRET": self.SECRET, "MLTRACKER_PUBLIC_URL": "http://mltracker.test",
                "MLTRACKER_RUN_JOBS_IN_PROCESS": "false", "MLTRACKER_AUTH_CACHE_TTL": "300"}


def log_pipeline(world: GitLabWorld, url: str, ref: str, sha: str, losses: dict[str, float]) -> int:
    """A pipeline whose CI job logs one candidate per entry through the stock client."""
    from mlflow import MlflowClient

    pipeline_id = world.new_id()
    job_id, token = world.job_token(pipeline_id, ref, sha)
    os.environ["MLFLOW_TRACKING_TOKEN"] = token
    try:
        client = MlflowClient(tracking_uri=f"{url}/projects/{world.project_id}")
        found = client.get_experiment_by_name("scale")
        experiment_id = found.experiment_id if found else client.create_experiment("scale")
        with redirect_stdout(io.StringIO()):  # the client prints a link for every finished run
            for name, loss in losses.items():
                run = client.create_run(experiment_id, run_name=name)
                client.log_metric(run.info.run_id, "loss", loss)
                client.set_terminated(run.info.run_id)
    finally:
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
    world.fake.set_job_status(job_id=job_id, status="success")
    return pipeline_id


def webhook_check(world: GitLabWorld, url: str, replica_count: int) -> dict:
    """Pipelines of one MR report through the balancer; each delivery is sent twice (GitLab retries
    with the same idempotency key). Exactly one bot note must result, updated in place."""
    from tests.fakes.gitlab_webhooks import pipeline_hook

    iid = world.new_id() % 1000 + 1
    ref, base_sha = f"feature-{iid}", "b" * 40
    shas = [hashlib.sha1(f"{iid}-{i}".encode()).hexdigest() for i in range(3)]
    world.fake.add_merge_request(project_id=world.project_id, iid=iid, source_branch=ref, target_branch="main",
                                 shas=shas)
    baseline = log_pipeline(world, url, "main", base_sha, {"base": 0.5})
    world.fake.add_pipeline(id=baseline, project_id=world.project_id, sha=base_sha, ref="main")
    deliveries = []
    for i, sha in enumerate(shas):
        pipeline_id = log_pipeline(world, url, ref, sha, {f"cand-{i}-a": 0.4 - i * 0.01, f"cand-{i}-b": 0.45})
        world.fake.add_pipeline(id=pipeline_id, project_id=world.project_id, sha=sha, ref=ref)
        deliveries.append(pipeline_hook(world.project_id, pipeline_id, ref, sha, iid))
    answered = []
    for body in deliveries:
        key = str(uuid.uuid4())
        for _ in range(2):  # the original delivery and GitLab's retry of it, through the balancer
            headers = {"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": world.SECRET,
                       "Idempotency-Key": key, "X-Gitlab-Event-UUID": key}
            answered.append(requests.post(f"{url}/webhooks/gitlab", json=body, headers=headers, timeout=30).status_code)
    deadline = time.monotonic() + 120
    bot_notes: list[dict] = []
    while time.monotonic() < deadline:
        notes = world.fake.bot_state()["notes"].get(f"{world.project_id}/{iid}", [])
        bot_notes = [n for n in notes if n["author"]["username"] == world.BOT_NAME]
        if bot_notes and all("cand-2-a" in n["body"] for n in bot_notes):
            break
        time.sleep(0.5)
    return {"deliveries": len(answered), "answers": sorted(set(answered)), "bot_notes": len(bot_notes),
            "latest_pipeline_reported": bool(bot_notes) and "cand-2-a" in bot_notes[-1]["body"],
            "replicas": replica_count}


# ---------------------------------------------------------------- one phase: N replicas

def run_phase(procs: Processes, workdir: Path, replicas: int, db_url: str, artifacts: str, env: dict,
              world: GitLabWorld, args) -> dict:
    ports = [free_port() for _ in range(replicas)]
    servers = []
    for i, port in enumerate(ports):
        servers.append(procs.start(f"serve-{replicas}-{i}", [
            str(ROOT / ".venv" / "bin" / "mltracker"), "serve", "--port", str(port), "--workers", "1",
            "--backend-store-uri", db_url, "--artifacts-destination", artifacts], env))
    for port, proc in zip(ports, servers):
        wait_http(f"http://127.0.0.1:{port}/health", proc)
    lb_port = free_port()
    cfg = workdir / f"haproxy-{replicas}.cfg"
    cfg.write_text(haproxy_config(lb_port, ports))
    haproxy = procs.start(f"haproxy-{replicas}", [shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", str(cfg)])
    url = f"http://127.0.0.1:{lb_port}"
    wait_http(f"{url}/health", haproxy)
    try:
        pipeline_id = world.new_id()
        _, token = world.job_token(pipeline_id, "main", "c" * 40)
        tracking = f"{url}/projects/{world.project_id}"
        headers = {"Authorization": f"Bearer {token}"}
        exp = requests.post(f"{tracking}/api/2.0/mlflow/experiments/create", headers=headers, timeout=30,
                            json={"name": f"load-{replicas}-{uuid.uuid4().hex[:6]}"}).json()["experiment_id"]
        run_ids = [requests.post(f"{tracking}/api/2.0/mlflow/runs/create", headers=headers, timeout=30,
                                 json={"experiment_id": exp}).json()["run"]["info"]["run_id"]
                   for _ in range(args.writers)]
        log(f"{replicas} replica(s): {args.writers} writers for {args.seconds} s through HAProxy")
        groups = {f"replica {i + 1}": proc.pid for i, proc in enumerate(servers)}
        groups["HAProxy"] = haproxy.pid
        load_average = os.getloadavg()[0]
        before, started = cpu_snapshot(groups), time.monotonic()
        load = drive_load(tracking, token, run_ids, args.client_processes, args.seconds)
        after, wall = cpu_snapshot(groups), time.monotonic() - started
        cpu = {name: (after[name] - before[name]) / wall for name in after}
        rows, distinct, connections = stored_points(db_url.replace("postgresql+psycopg://", "postgresql://"), run_ids)
        acknowledged_points = load["batches"] * KEYS * STEPS

        payload = os.urandom(2 * 1024 * 1024)
        artifact_run = run_ids[0]
        put = requests.put(f"{tracking}/api/2.0/mlflow-artifacts/artifacts/{exp}/{artifact_run}/artifacts/blob.bin",
                           data=payload, headers=headers, timeout=60)
        got = [requests.get(f"{tracking}/api/2.0/mlflow-artifacts/artifacts/{exp}/{artifact_run}/artifacts/blob.bin",
                            headers=headers, timeout=60).content == payload for _ in range(2 * replicas)]
        webhooks = webhook_check(world, url, replicas)
        return {"replicas": replicas, "points_per_s": load["points_per_s"], "errors": load["errors"][:5],
                "cpu": cpu, "load_average": load_average, "pg_connections": connections,
                "error_count": len(load["errors"]), "acknowledged_points": acknowledged_points,
                "stored_rows": rows, "distinct_rows": distinct,
                "artifact_round_trip": put.status_code == 200 and all(got), "webhooks": webhooks}
    finally:
        procs.stop(haproxy)
        for proc in servers:
            procs.stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--writers", type=int, default=8, help="keep-alive connections sending log-batch bodies")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--replicas", default="1,2,1,2",
                        help="replica counts to measure, in order (alternating evens out a shared machine's load)")
    parser.add_argument("--output", default=str(BENCH / "RESULTS.md"), help="file to append the table to; - for none")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    if not shutil.which("haproxy") and not os.path.exists("/usr/sbin/haproxy"):
        sys.exit("haproxy is not installed: apt-get install haproxy")

    from tests.fakes.gitlab_bot_fake import BotFakeGitLab

    workdir = Path(tempfile.mkdtemp(prefix="mltracker-scale-"))
    procs = Processes(workdir)
    phases = []
    try:
        with ExitStack() as stack:
            db_url = stack.enter_context(fresh_pg_database())
            fake = stack.enter_context(BotFakeGitLab())
            world = GitLabWorld(fake)
            s3_port = free_port()
            moto = procs.start("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)])
            endpoint = f"http://127.0.0.1:{s3_port}"
            wait_http(endpoint, moto)
            import boto3

            bucket = f"scale-{uuid.uuid4().hex[:8]}"
            boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                         aws_secret_access_key="testing").create_bucket(Bucket=bucket)
            env = {**S3_ENV, "MLFLOW_S3_ENDPOINT_URL": endpoint, **world.server_env()}
            artifacts = f"s3://{bucket}/artifacts"
            subprocess.run([str(ROOT / ".venv" / "bin" / "mltracker"), "db", "upgrade", "--backend-store-uri", db_url],
                           check=True, env={**os.environ, **env}, cwd=workdir, capture_output=True)
            for i in range(2):
                procs.start(f"worker-{i}", [str(ROOT / ".venv" / "bin" / "mltracker"), "worker",
                                            "--backend-store-uri", db_url, "--artifacts-destination", artifacts], env)
            for replicas in (int(n) for n in args.replicas.split(",")):
                phases.append(run_phase(procs, workdir, replicas, db_url, artifacts, env, world, args))
                log(json.dumps({k: v for k, v in phases[-1].items() if k != "errors"}))
    finally:
        procs.stop_all()
        if args.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    text = render(phases, args)
    print(text)
    if args.output != "-":
        with open(args.output, "a") as out:
            out.write("\n" + text)
    ok = all(p["stored_rows"] == p["distinct_rows"] >= p["acknowledged_points"] and p["artifact_round_trip"]
             and p["webhooks"]["bot_notes"] == 1 for p in phases)
    return 0 if ok else 1


def render(phases: list[dict], args) -> str:
    by_count: dict[int, list[float]] = {}
    for p in phases:
        by_count.setdefault(p["replicas"], []).append(p["points_per_s"])
    base = statistics.median(by_count[min(by_count)]) if by_count else 0
    lines = [
        f"## Scale-out ({time.strftime('%Y-%m-%d %H:%M')}, `benchmarks/scale_out.py --seconds {args.seconds:g} "
        f"--writers {args.writers} --replicas {args.replicas}`, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f})",
        "",
        "PostgreSQL + S3 (moto), HAProxy round-robin, one web worker per replica, two `mltracker worker`s.",
        "",
        "| replicas | log-batch points/s (median of phases) | each phase | vs fewest replicas |",
        "|---|---|---|---|",
    ]
    for count, values in sorted(by_count.items()):
        lines.append(f"| {count} | {statistics.median(values):,.0f} | {', '.join(f'{v:,.0f}' for v in values)} | "
                     f"{statistics.median(values) / base:.2f}× |")
    lines += [
        "",
        "| phase | replicas | acknowledged points | rows stored | distinct rows | errors | artifact via LB "
        "| bot notes on the MR (6 deliveries) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for index, p in enumerate(phases, 1):
        w = p["webhooks"]
        lines.append(
            f"| {index} | {p['replicas']} | {p['acknowledged_points']:,} | {p['stored_rows']:,} | "
            f"{p['distinct_rows']:,} | {p['error_count']} | {'same bytes' if p['artifact_round_trip'] else 'FAILED'} | "
            f"{w['bot_notes']}{' (latest pipeline)' if w['latest_pipeline_reported'] else ' (stale)'} |")
    lines += [
        "",
        f"Where the CPU went while the load ran (CPU seconds per second of wall time; {os.cpu_count()} cores = "
        f"{os.cpu_count()}.0; PostgreSQL counts every database on the shared server):",
        "",
        "| phase | replicas | load average at start | each replica | PostgreSQL (whole server) | load generator "
        "| HAProxy | connections to the database after the load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for index, p in enumerate(phases, 1):
        cpu = p["cpu"]
        each = ", ".join(f"{cpu[f'replica {i + 1}']:.2f}" for i in range(p["replicas"]))
        lines.append(f"| {index} | {p['replicas']} | {p['load_average']:.1f} | {each} | "
                     f"{cpu['PostgreSQL (whole server)']:.2f} | {cpu['load generator']:.2f} | {cpu['HAProxy']:.2f} | "
                     f"{p['pg_connections']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
