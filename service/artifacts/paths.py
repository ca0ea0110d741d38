"""Artifact path safety: what the client sends becomes a storage key only after these checks.

A path is refused ("Invalid path", INVALID_PARAMETER_VALUE) when it, or any URL-decoding of it
(a path may have been encoded once, twice, ...), contains a ".." segment, starts with "/" or a
drive letter, or contains a backslash, a "#", a NUL or another control character; or when it
still holds an encoded "/", "\" or NUL (%2f, %252f, ...), which no honest client sends.  The raw request URI
is checked as well, since the web framework decodes "%2F" into "/" before routing.
"""
from __future__ import annotations

import re
from urllib.parse import unquote

from mltracker.service.errors import MlflowError

INVALID_PATH = "Invalid path"
_MAX_DECODE_ROUNDS = 8
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# An encoded "/", "\" or NUL, at any depth of encoding: %2f, %252f, %25252f, ...
_ENCODED_SEPARATOR = re.compile(r"%(?:25)*(?:2f|5c|00)", re.IGNORECASE)


def invalid_path() -> MlflowError:
    return MlflowError(INVALID_PATH, "INVALID_PARAMETER_VALUE")


def _decodings(text: str) -> list[str]:
    """text, then each further URL-decoding of it until it stops changing."""
    forms = [text]
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote(forms[-1], errors="strict")
        if decoded == forms[-1]:
            return forms
        forms.append(decoded)
    raise invalid_path()  # encoded deeper than any honest client would


def _is_unsafe(form: str) -> bool:
    return (
        "\\" in form
        or "#" in form
        or _CONTROL.search(form) is not None
        or form.startswith("/")
        or _DRIVE.match(form) is not None
        or ".." in form.split("/")
    )


def safe_relative_path(path: str | None) -> str:
    """The normalized relative path ("a/b/c", or "" for the root); raises on anything unsafe.

    Empty and "." segments are dropped, so "a//b/./c/" is "a/b/c".
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise invalid_path()
    if _ENCODED_SEPARATOR.search(path):
        raise invalid_path()
    try:
        forms = _decodings(path)
    except UnicodeDecodeError:
        raise invalid_path() from None
    if any(_is_unsafe(form) for form in forms):
        raise invalid_path()
    return "/".join(segment for segment in path.split("/") if segment not in ("", "."))


def safe_file_name(name: str) -> str:
    """A single path segment (a file name); raises on anything that is not one."""
    cleaned = safe_relative_path(name)
    if not cleaned or "/" in cleaned:
        raise invalid_path()
    return cleaned


def check_raw_request_path(raw_uri: str | None) -> None:
    """Refuse a request whose raw URI path hides a traversal the router would decode away."""
    if not raw_uri:
        return
    raw_path = raw_uri.split("?", 1)[0]
    if "://" in raw_path:  # absolute-form request target: keep only the path
        raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
    if _ENCODED_SEPARATOR.search(raw_path):
        raise invalid_path()
    try:
        forms = _decodings(raw_path)
    except UnicodeDecodeError:
        raise invalid_path() from None
    for form in forms:
        segments = form.split("/")
        if ".." in segments or "\\" in form or _CONTROL.search(form):
            raise invalid_path()


def join_key(*parts: str) -> str:
    """Join already-checked relative paths into one storage key."""
    return "/".join(part.strip("/") for part in parts if part and part.strip("/"))
