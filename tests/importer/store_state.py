"""The whole target store as data: every table's rows and every stored artifact object, to show
that a second import changed nothing; and the import's progress, to interrupt it midway."""
from __future__ import annotations

import os
import time

from sqlalchemy import select, text

from mltracker.service.db.engine import Database
from mltracker.service.db.tables import metadata


def database_rows(uri: str) -> dict:
    db = Database(uri)
    try:
        with db.read() as conn:
            return {
                table.name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
                for table in metadata.sorted_tables
            }
    finally:
        db.dispose()


def stored_objects(destination: str, s3=None) -> dict:
    """key → (size, modification stamp) of every artifact object."""
    if destination.startswith("s3://"):
        bucket, _, prefix = destination[5:].partition("/")
        client = s3.client()
        found = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                found[obj["Key"]] = (obj["Size"], obj["ETag"], str(obj["LastModified"]))
        return found
    found = {}
    for root, _, files in os.walk(destination):
        for name in files:
            path = os.path.join(root, name)
            stat = os.stat(path)
            found[os.path.relpath(path, destination)] = (stat.st_size, stat.st_mtime_ns)
    return found


def done_runs(uri: str) -> int:
    db = Database(uri)
    try:
        with db.read() as conn:
            return conn.execute(text(
                "SELECT count(*) FROM import_progress WHERE kind = 'run' AND state = 'done'")).scalar()
    except Exception:  # noqa: BLE001 - the schema is not there yet
        return 0
    finally:
        db.dispose()


def wait_for_a_finished_run(uri: str, proc, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if done_runs(uri) >= 1:
            return
        time.sleep(0.05)
    raise AssertionError(f"no run finished (exit {proc.poll()}): {proc.stderr.read().decode()[-3000:]}"
                         if proc.poll() is not None else "no run finished in time")
