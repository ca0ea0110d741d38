"""Request bodies: strings no database stores alike (NUL, lone surrogates) are refused however they
arrive, while bodies that cannot hold them skip the walk through every string."""
from __future__ import annotations

import json

import pytest
from flask import Flask

from mltracker.service.api import request as request_module
from mltracker.service.api.request import RequestMessage
from mltracker.service.errors import MlflowError

APP = Flask(__name__)


def parse(raw: bytes) -> RequestMessage:
    with APP.test_request_context("/", method="POST", data=raw, content_type="application/json"):
        return RequestMessage.from_flask()


def batch_body(key: str) -> bytes:
    return json.dumps({"run_id": "r", "metrics": [{"key": f"k{i}", "value": 1.0, "timestamp": 1, "step": i}
                                                  for i in range(50)] + [{"key": key, "value": 1.0,
                                                                          "timestamp": 1, "step": 0}]}).encode()


@pytest.mark.parametrize("raw", [
    batch_body("nul\u0000"),  # json.dumps escapes it as \u0000
    batch_body("lone\ud800"),  # \ud800 escaped: orjson refuses, Python's json takes it
    b'{"run_id": "r", "key": "\xed\xa0\x80", "value": NaN, "timestamp": 1}',  # raw surrogate bytes, fallback parser
    json.dumps(json.dumps({"name": "x\u0000"})).encode(),  # double-encoded JSON
    b'{"name": "x", "tags": [{"key": "\\u0000", "value": "1"}]}',
], ids=["escaped NUL in a batch key", "escaped lone surrogate", "raw surrogate bytes with NaN",
        "NUL in double-encoded JSON", "escaped NUL in a nested key"])
def test_unstorable_text_is_refused(raw):
    with pytest.raises(MlflowError) as caught:
        parse(raw)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_text_without_escapes_is_read_without_walking_it(monkeypatch):
    walked = []
    monkeypatch.setattr(request_module, "check_text", walked.append)
    raw = json.dumps({"run_id": "r", "tags": [{"key": "ünïcode ✓", "value": "😀"}]}, ensure_ascii=False).encode()
    assert parse(raw).objects("tags") == [{"key": "ünïcode ✓", "value": "😀"}]
    assert walked == []
    parse(json.dumps({"run_id": "r", "tags": [{"key": "ünïcode"}]}).encode())  # escaped: \u00fc
    assert len(walked) == 1
