"""Responses encoded by orjson read back exactly as json.dumps' would, falling back where orjson
cannot encode."""
from __future__ import annotations

import json

import pytest

from mltracker.service.api.json_response import encode
from mltracker.service.api.mlflow_json import json_double

PAYLOADS = [
    {},
    {"runs": [{"info": {"run_id": "a" * 32, "start_time": 1_700_000_000_000, "end_time": None},
               "data": {"metrics": [{"key": "loss", "value": 0.1 + 0.2, "timestamp": 1, "step": -3},
                                    {"key": "nan", "value": json_double(float("nan")), "timestamp": 1, "step": 0},
                                    {"key": "big", "value": json_double(float("inf")), "timestamp": 1, "step": 0},
                                    {"key": "tiny", "value": 5e-324, "timestamp": 1, "step": 0},
                                    {"key": "max", "value": 1.7976931348623157e308, "timestamp": 1, "step": 0}],
                        "params": [{"key": "π ünïcode ✓", "value": "\u0000\n\t\"quoted\" \\ 😀"}]}}],
     "next_page_token": "eyJhIjogMX0="},
    {"huge": 2**70, "negative": -(2**63)},  # beyond 64 bits: json.dumps takes over
    {"nested": [[1, 2.5, True, False, None, "x"]]},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_encoded_payload_reads_back_as_json_dumps_would(payload):
    assert json.loads(encode(payload)) == json.loads(json.dumps(payload))


def test_non_string_keys_fall_back_to_json_dumps():
    assert json.loads(encode({1: "a"})) == {"1": "a"}
