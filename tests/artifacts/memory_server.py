"""A live mltracker app in its own process, for measuring its memory: prints its port, then serves.

Usage: python memory_server.py <backend_store_uri> <artifacts_destination>
"""
from __future__ import annotations

import sys

from werkzeug.serving import make_server

from mltracker.service.app import create_app
from mltracker.service.settings import Settings


def main() -> None:
    backend_store_uri, destination = sys.argv[1], sys.argv[2]
    app = create_app(Settings(backend_store_uri=backend_store_uri, artifacts_destination=destination))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
