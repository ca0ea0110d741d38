"""The whole target store as data: every table's rows and every stored artifact object, to show
that a second import changed nothing."""
from __future__ import annotations

import os

from sqlalchemy import select

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
