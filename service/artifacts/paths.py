"""Artifact path safety: what the client sends becomes a storage key only after these checks.

The key is the path exactly as the router (or the JSON body) gives it: decoded once, as MLflow
decodes it.  A "%" in it is part of the name: MLflow 3.x clients up to 3.6 name step images
"images/<key>%step%<n>%timestamp%<t>%<uuid>.png", in which "%17" or "%2f" are not encodings.

A path is refused ("Invalid path", INVALID_PARAMETER_VALUE) when the name itself contains a
".." segment, starts with "/" or a drive letter, or contains a backslash, a "#", a NUL or another
control character; or when some further URL-decoding of it (once, twice, ...) would climb out of
its folder (a ".." segment, "/" and "\\" both counting as separators) or become absolute, so that
no component that decodes again can be led outside the project's artifacts.
"""
from __future__ import annotations

import re
from urllib.parse import unquote

from mltracker.service.errors import MlflowError

INVALID_PATH = "Invalid path"
_MAX_DECODE_ROUNDS = 8
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SEPARATORS = re.compile(r"[/\\]")
# What the router would decode into a separator or NUL, hiding it from routing.
_RAW_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c|00)", re.IGNORECASE)


def invalid_path() -> MlflowError:
    return MlflowError(INVALID_PATH, "INVALID_PARAMETER_VALUE")


def _further_decodings(text: str) -> list[str]:
    """Each further URL-decoding of text until it stops changing (text itself not included).

    Bytes that do not form UTF-8 stay as replacement characters: such a form is only ever a name.
    """
    forms: list[str] = []
    current = text
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote(current, errors="replace")
        if decoded == current:
            return forms
        forms.append(decoded)
        current = decoded
    raise invalid_path()  # encoded deeper than any honest client would


def _is_unsafe_name(form: str) -> bool:
    return (
        "\\" in form
        or "#" in form
        or _CONTROL.search(form) is not None
        or form.startswith("/")
        or _DRIVE.match(form) is not None
        or ".." in form.split("/")
    )


def _escapes_when_decoded(form: str) -> bool:
    return (
        form.startswith(("/", "\\"))
        or _DRIVE.match(form) is not None
        or ".." in _SEPARATORS.split(form)
    )


def safe_relative_path(path: str | None) -> str:
    """The normalized relative path ("a/b/c", or "" for the root); raises on anything unsafe.

    Empty and "." segments are dropped, so "a//b/./c/" is "a/b/c".
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise invalid_path()
    if _is_unsafe_name(path) or any(_escapes_when_decoded(form) for form in _further_decodings(path)):
        raise invalid_path()
    return "/".join(segment for segment in path.split("/") if segment not in ("", "."))


def safe_file_name(name: str) -> str:
    """A single path segment (a file name); raises on anything that is not one."""
    cleaned = safe_relative_path(name)
    if not cleaned or "/" in cleaned:
        raise invalid_path()
    return cleaned


def check_raw_request_path(raw_uri: str | None) -> None:
    """Refuse a request whose raw URI path hides a separator or a traversal from the router."""
    if not raw_uri:
        return
    raw_path = raw_uri.split("?", 1)[0]
    if "://" in raw_path:  # absolute-form request target: keep only the path
        raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
    if _RAW_ENCODED_SEPARATOR.search(raw_path):
        raise invalid_path()
    routed = unquote(raw_path, errors="replace")
    if _CONTROL.search(routed) or "\\" in routed:
        raise invalid_path()
    for form in [raw_path, routed, *_further_decodings(routed)]:
        if ".." in _SEPARATORS.split(form):
            raise invalid_path()


def join_key(*parts: str) -> str:
    """Join already-checked relative paths into one storage key."""
    return "/".join(part.strip("/") for part in parts if part and part.strip("/"))
