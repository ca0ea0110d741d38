"""Opaque paging tokens: base64 of {"offset": N}, as MLflow's SearchUtils makes them."""
from __future__ import annotations

import base64
import binascii
import json

from mltracker.service.errors import invalid

MAX_OFFSET = 2**63 - 1  # databases take a signed 64-bit OFFSET


def encode_offset(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode("utf-8")).decode("ascii")


def decode_offset(token: str | None) -> int:
    """The offset a token stands for; 0 for no token. Errors use MLflow's messages."""
    if not token:
        return 0
    try:
        decoded = base64.b64decode(token)
    except (binascii.Error, ValueError, TypeError):
        raise invalid("Invalid page token, could not base64-decode") from None
    try:
        parsed = json.loads(decoded)
    except ValueError:
        raise invalid(f"Invalid page token, decoded value={decoded}") from None
    offset = parsed.get("offset") if isinstance(parsed, dict) else None
    # MLflow never issues offset 0 and rejects it as "falsy" too.
    if not offset or isinstance(offset, (bool, float, list, dict)):
        raise invalid(f"Invalid page token, parsed value={parsed}")
    try:
        offset = int(offset)
    except ValueError:
        raise invalid(f"Invalid page token, not stringable {parsed['offset']}") from None
    if not 0 <= offset <= MAX_OFFSET:
        raise invalid(f"Invalid page token, parsed value={parsed}")
    return offset
