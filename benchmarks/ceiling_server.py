"""A tracking server that does no work: the ceiling for end-to-end figures.

Every request the benchmark workloads send is answered with a response that was encoded once, at
start-up, in the same shape mltracker and `mlflow server` send (same number of runs, params, tags,
metrics and history points). Request bodies are read and thrown away. Whatever time a workload
takes against this server is the stock MLflow client's own cost plus the HTTP round trips, so
"mltracker / ceiling" says how much of what users feel is left for a server to win.

Plain asyncio on one thread: HTTP/1.1 keep-alive, Content-Length and chunked request bodies.

    python benchmarks/ceiling_server.py --port 5099 --history-steps 100000 --search-runs 100
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from urllib.parse import parse_qs, urlsplit

RUN_ID = "c0ffee00" * 4
EXPERIMENT_ID = "1"
HISTORY_PAGE = 25000  # mlflow.store.tracking.GET_METRIC_HISTORY_MAX_RESULTS
CHUNK = 1 << 20
RANGES_PATH = "/ceiling-artifact"
# The shape of the runs the search workload seeds (see benchmarks/workloads.py).
SEARCH_PARAMS = 10
SEARCH_TAGS = 5
SEARCH_METRICS = 5


def _dumps(payload) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _run_info(run_id: str = RUN_ID, name: str = "ceiling", status: str = "RUNNING") -> dict:
    return {
        "run_id": run_id,
        "run_uuid": run_id,
        "run_name": name,
        "experiment_id": EXPERIMENT_ID,
        "user_id": "bench",
        "status": status,
        "start_time": 1_700_000_000_000,
        "artifact_uri": f"mlflow-artifacts:/{EXPERIMENT_ID}/{run_id}/artifacts",
        "lifecycle_stage": "active",
    }


def _run(run_id: str = RUN_ID, params: int = 0, tags: int = 0, metrics: int = 0, seed: int = 0) -> dict:
    tag_list = [{"key": f"t{i}", "value": f"tag-{i}-{seed % 89}"} for i in range(tags)]
    tag_list.append({"key": "mlflow.runName", "value": "ceiling"})
    return {
        "info": _run_info(run_id, status="FINISHED" if seed else "RUNNING"),
        "data": {
            "metrics": [
                {"key": f"m{i}", "value": ((seed * 7919 + i * 104729) % 10007) / 10007.0,
                 "timestamp": 1_700_000_000_000 + seed, "step": 0}
                for i in range(metrics)
            ],
            "params": [{"key": f"p{i}", "value": f"v{seed % 10}" if i == 0 else f"p{i}-{seed % 97}"}
                       for i in range(params)],
            "tags": tag_list,
        },
        "inputs": {},
    }


class Responses:
    """Every response body, encoded once."""

    def __init__(self, history_steps: int, search_runs: int):
        self.empty = b"{}"
        self.experiment = _dumps({"experiment_id": EXPERIMENT_ID})
        self.get_experiment = _dumps({"experiment": {
            "experiment_id": EXPERIMENT_ID, "name": "ceiling", "artifact_location": "mlflow-artifacts:/1",
            "lifecycle_stage": "active", "creation_time": 1_700_000_000_000,
            "last_update_time": 1_700_000_000_000, "tags": [],
        }})
        self.run = _dumps({"run": _run()})
        self.run_info = _dumps({"run_info": _run_info(status="FINISHED")})
        self.search = _dumps({"runs": [
            _run(f"{i:032x}", SEARCH_PARAMS, SEARCH_TAGS, SEARCH_METRICS, seed=i + 1) for i in range(search_runs)
        ]})
        self.history_pages: dict[str, bytes] = {}
        pages = max(1, -(-history_steps // HISTORY_PAGE))
        for page in range(pages):
            start = page * HISTORY_PAGE
            stop = min(history_steps, start + HISTORY_PAGE)
            body = {"metrics": [
                {"key": "hist", "value": (i % 1000) / 1000.0, "timestamp": 1_700_000_000_000 + i, "step": i}
                for i in range(start, stop)
            ]}
            if page + 1 < pages:
                body["next_page_token"] = f"page{page + 1}"
            self.history_pages["" if page == 0 else f"page{page}"] = _dumps(body)
        self.list_artifacts = self.empty  # a file path lists as nothing: the client then downloads it
        self.download_block = os.urandom(CHUNK)


def _response(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: keep-alive\r\n\r\n"
    ).encode() + body


class CeilingServer:
    def __init__(self, responses: Responses, download_bytes: int, parallel_downloads: bool = False):
        self.r = responses
        self.download_bytes = download_bytes
        self.ok_empty = _response("200 OK", responses.empty)
        self.ok_run = _response("200 OK", responses.run)
        self.ok_run_info = _response("200 OK", responses.run_info)
        self.ok_experiment = _response("200 OK", responses.experiment)
        self.ok_get_experiment = _response("200 OK", responses.get_experiment)
        self.ok_search = _response("200 OK", responses.search)
        self.ok_history = {k: _response("200 OK", v) for k, v in responses.history_pages.items()}
        self.ok_server_info = _response("200 OK", _dumps({
            "store_type": "SqlStore", "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": parallel_downloads,
        }))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                await self._drain_body(reader, headers)
                await self._answer(method, target, headers, writer)
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _drain_body(self, reader: asyncio.StreamReader, headers: dict) -> None:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    return
                await self._discard(reader, size + 2)
        else:
            await self._discard(reader, int(headers.get("content-length") or 0))

    @staticmethod
    async def _discard(reader: asyncio.StreamReader, remaining: int) -> None:
        while remaining > 0:
            data = await reader.read(min(remaining, CHUNK))
            if not data:
                raise asyncio.IncompleteReadError(b"", remaining)
            remaining -= len(data)

    async def _answer(self, method: str, target: str, headers: dict, writer: asyncio.StreamWriter) -> None:
        parts = urlsplit(target)
        path = parts.path
        if path.endswith("/server-info"):
            writer.write(self.ok_server_info)
        elif "/mlflow-artifacts/presigned/" in path:
            # The stock client's parallel download: the file from a URL of ours, in byte ranges.
            writer.write(_response("200 OK", _dumps({
                "url": f"http://{headers.get('host')}{RANGES_PATH}", "headers": {}, "file_size": self.download_bytes,
            })))
        elif path == RANGES_PATH:
            await self._download(writer, headers.get("range"))
            return
        elif "/mlflow-artifacts/artifacts" in path:
            if method == "PUT":
                writer.write(self.ok_empty)
            elif path.endswith("/mlflow-artifacts/artifacts"):
                writer.write(self.ok_empty)  # list: a file has no children
            else:
                await self._download(writer)
                return
        elif path.endswith("/runs/log-batch") or path.endswith("/runs/log-metric") \
                or path.endswith("/runs/log-parameter") or path.endswith("/runs/set-tag"):
            writer.write(self.ok_empty)
        elif path.endswith("/metrics/get-history"):
            token = parse_qs(parts.query).get("page_token", [""])[0]
            writer.write(self.ok_history.get(token, self.ok_history[""]))
        elif path.endswith("/runs/create") or path.endswith("/runs/get"):
            writer.write(self.ok_run)
        elif path.endswith("/runs/update"):
            writer.write(self.ok_run_info)
        elif path.endswith("/runs/search"):
            writer.write(self.ok_search)
        elif path.endswith("/experiments/create"):
            writer.write(self.ok_experiment)
        elif path.endswith("/experiments/get") or path.endswith("/experiments/get-by-name"):
            writer.write(self.ok_get_experiment)
        elif path in ("/health", "/version"):
            writer.write(_response("200 OK", b"OK", "text/plain"))
        else:
            print(f"ceiling: unanswered {method} {path}", file=sys.stderr, flush=True)
            writer.write(_response("404 Not Found", _dumps(
                {"error_code": "ENDPOINT_NOT_FOUND", "message": f"ceiling server has no {path}"})))
        await writer.drain()

    async def _download(self, writer: asyncio.StreamWriter, byte_range: str | None = None) -> None:
        if byte_range:  # "bytes=a-b", as the stock client asks
            first, last = byte_range.split("=", 1)[1].split("-")
            start, end = int(first), min(int(last), self.download_bytes - 1)
            status, remaining = "206 Partial Content", end - start + 1
            extra = f"Content-Range: bytes {start}-{end}/{self.download_bytes}\r\n"
        else:
            status, remaining, extra = "200 OK", self.download_bytes, ""
        writer.write((
            f"HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\n{extra}"
            f"Content-Length: {remaining}\r\nConnection: keep-alive\r\n\r\n"
        ).encode())
        block = memoryview(self.r.download_block)
        while remaining > 0:
            n = min(remaining, len(block))
            writer.write(block[:n])
            remaining -= n
            await writer.drain()


async def _main(args) -> None:
    responses = Responses(args.history_steps, args.search_runs)
    server = CeilingServer(responses, args.download_mb * 1024 * 1024, args.parallel_downloads)
    srv = await asyncio.start_server(server.handle, args.host, args.port, backlog=256)
    print(f"ceiling server on http://{args.host}:{args.port}", flush=True)
    async with srv:
        await srv.serve_forever()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--history-steps", type=int, default=100_000)
    parser.add_argument("--search-runs", type=int, default=100, help="runs in a search response")
    parser.add_argument("--download-mb", type=int, default=200, help="size of an artifact download")
    parser.add_argument("--parallel-downloads", action="store_true",
                        help="advertise the stock client's parallel download (presigned URL, byte ranges)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_main(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
