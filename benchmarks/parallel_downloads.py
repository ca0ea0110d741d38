"""The stock client's two ways to download an artifact, side by side: one stream
(`GET …/mlflow-artifacts/artifacts/<path>`) and the parallel path (`presigned/<path>`, then byte
ranges of MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE fetched from a thread pool and written at their
offsets), against mltracker (local folder, MLTRACKER_MULTIPART_DOWNLOADS=true) and the ceiling
server (--parallel-downloads), in alternating order. Per download: MB/s, the client's CPU seconds
and minor page faults (both independent of the machine's load), and mltracker's worker RSS growth.

    .venv/bin/python benchmarks/parallel_downloads.py --reps 4 --chunk-mib 100,16
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import BENCH, OUR_BIN, Server, free_port, log, proc_status_kb, reset_peak_rss  # noqa: E402

MIB = 1024 * 1024
CEILING_ARTIFACT = "mlflow-artifacts:/1/c0ffee00c0ffee00c0ffee00c0ffee00/artifacts/artifact.bin"


def _download(tracking_uri: str, artifact_uri: str, chunk: int | None, tmp: Path) -> dict:
    import mlflow.artifacts

    os.environ["MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"] = "true" if chunk else "false"
    os.environ["MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE"] = str(chunk or 100 * MIB)
    os.sync()  # no dirty pages of the step before to wait behind
    with tempfile.TemporaryDirectory(dir=tmp) as dst:
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        local = mlflow.artifacts.download_artifacts(artifact_uri=artifact_uri, dst_path=dst, tracking_uri=tracking_uri)
        elapsed, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
        size = os.path.getsize(local)
    return {"mb_s": size / 1e6 / elapsed,
            "cpu_s": after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
            "faults": after.ru_minflt - before.ru_minflt}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=200, help="artifact size")
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--chunk-mib", default="100", help="parallel chunk sizes to try, comma-separated")
    args = parser.parse_args(argv)
    chunks = [int(c) * MIB for c in args.chunk_mib.split(",")]
    work = Path(tempfile.mkdtemp(prefix="parallel-downloads-"))
    artifact = work / "artifact.bin"
    block = os.urandom(MIB)
    with open(artifact, "wb") as out:
        for _ in range(args.mib):
            out.write(block)

    port, ceiling_port = free_port(), free_port()
    ours = Server("mltracker", [str(OUR_BIN / "mltracker"), "serve", "--host", "127.0.0.1", "--port", str(port),
                                "--workers", "2", "--backend-store-uri", f"sqlite:///{work}/mltracker.db",
                                "--artifacts-destination", str(work / "artifacts")],
                  port, work / "mltracker.log", env={"MLTRACKER_MULTIPART_DOWNLOADS": "true"}).start()
    ceiling = Server("ceiling", [str(OUR_BIN / "python"), str(BENCH / "ceiling_server.py"), "--port", str(ceiling_port),
                                 "--download-mb", str(args.mib), "--parallel-downloads"],
                     ceiling_port, work / "ceiling.log").start()
    try:
        ours.wait_ready()
        ceiling.wait_ready()
        from mlflow import MlflowClient

        client = MlflowClient(ours.url)
        run = client.create_run(client.create_experiment("parallel-downloads"))
        os.environ["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] = "false"
        client.log_artifact(run.info.run_id, str(artifact))
        targets = {"mltracker": (ours.url, f"{run.info.artifact_uri}/artifact.bin"),
                   "ceiling": (ceiling.url, CEILING_ARTIFACT)}
        cases = [(server, chunk) for server in targets for chunk in [None, *chunks]]
        results: dict = {case: [] for case in cases}
        for rep in range(args.reps):
            for server, chunk in cases if rep % 2 == 0 else cases[::-1]:
                pids = ours.pids()
                baseline = max(proc_status_kb(pid, "VmRSS") for pid in pids)
                reset_peak_rss(pids)
                result = _download(*targets[server], chunk, work)
                result["growth_mb"] = (max(proc_status_kb(pid, "VmHWM") for pid in pids) - baseline) / 1024
                results[(server, chunk)].append(result)
            log(f"repetition {rep + 1} done, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        ours.stop()
        ceiling.stop()

    print(f"| server | download of {args.mib} MiB | MB/s, median (range) | client CPU s | client page faults | "
          "mltracker worker growth |")
    print("|---|---|---:|---:|---:|---:|")
    for (server, chunk), runs in results.items():
        speeds = [r["mb_s"] for r in runs]
        how = "one stream" if chunk is None else f"parallel, {chunk // MIB} MiB ranges"
        growth = f"+{max(r['growth_mb'] for r in runs):.0f} MB" if server == "mltracker" else ""
        print(f"| {server} | {how} | {statistics.median(speeds):.0f} ({min(speeds):.0f}–{max(speeds):.0f}) | "
              f"{statistics.median(r['cpu_s'] for r in runs):.2f} | {statistics.median(r['faults'] for r in runs):,.0f} | "
              f"{growth} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
