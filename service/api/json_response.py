"""JSON responses the way MLflow's server writes them."""
from __future__ import annotations

import json

from flask import Response


def json_response(payload: dict, status: int = 200) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status=status, mimetype="application/json")
