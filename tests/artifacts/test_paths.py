"""Path safety: a table of good and bad paths, plain and URL-encoded."""
from __future__ import annotations

import pytest

from mltracker.service.artifacts.paths import (
    check_raw_request_path,
    join_key,
    safe_file_name,
    safe_relative_path,
)
from mltracker.service.errors import MlflowError

GOOD = [
    (None, ""),
    ("", ""),
    ("model", "model"),
    ("3/abc/artifacts/model/MLmodel", "3/abc/artifacts/model/MLmodel"),
    ("a//b/./c/", "a/b/c"),
    ("dir with spaces/file name.txt", "dir with spaces/file name.txt"),
    ("données/résultat.csv", "données/résultat.csv"),
    ("..hidden/x..y/...", "..hidden/x..y/..."),
    ("100%.txt", "100%.txt"),  # a stray % is not an encoding
    ("a%20b", "a%20b"),  # kept as sent: the key is what the client asked for
    # MLflow <= 3.6 step images: "%17", "%2f", "%00", "%c0" here are parts of the name, not encodings
    ("images/acc%step%3%timestamp%1700000000000%2f4e0c1a.png", "images/acc%step%3%timestamp%1700000000000%2f4e0c1a.png"),
    ("images/acc%step%0%timestamp%1700000000000%00ab%5cde.png", "images/acc%step%0%timestamp%1700000000000%00ab%5cde.png"),
    ("images/acc%step%2500%timestamp%1700000000000%c0ae%23.webp", "images/acc%step%2500%timestamp%1700000000000%c0ae%23.webp"),
    ("a/%252fetc", "a/%252fetc"),  # decodes to "a//etc": no climbing out
    ("%c0%ae%c0%ae/x", "%c0%ae%c0%ae/x"),  # not UTF-8 once decoded: only ever a name
]

BAD = [
    "..",
    "../x",
    "a/../../x",
    "a/..",
    "/etc/passwd",
    "//etc/passwd",
    "a\\b",
    "..\\x",
    "C:/Windows",
    "c:x",
    "a\x00b",
    "a\nb",
    "a#b",
    "%2e%2e/x",
    "%2E%2E/x",
    "a/%2e%2e",
    "..%2fx",
    "%2fetc/passwd",
    "%5c..",
    "%2e%2e",
    "%252e%252e",
    "a%5c..%5c..%5cx",
    "%252e%252e/x",
    "%25252e%25252e/x",
    "a/%252e%252e%252f%252e%252e",
    "%2F%2Fhost/x",
    "c%3A/x",
]


@pytest.mark.parametrize("path,expected", GOOD)
def test_good_paths_are_normalized(path, expected):
    assert safe_relative_path(path) == expected


@pytest.mark.parametrize("path", BAD)
def test_bad_paths_are_refused(path):
    with pytest.raises(MlflowError) as info:
        safe_relative_path(path)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.message == "Invalid path"
    assert info.value.http_status == 400


def test_non_string_is_refused():
    with pytest.raises(MlflowError):
        safe_relative_path(["a"])


@pytest.mark.parametrize("name", ["model.bin", "a b.txt", "..x"])
def test_file_names(name):
    assert safe_file_name(name) == name


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "/x", "%2e%2e", "a\\b"])
def test_bad_file_names(name):
    with pytest.raises(MlflowError):
        safe_file_name(name)


RAW_GOOD = [
    None,
    "",
    "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/x.txt",
    "/projects/42/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/a%20b.txt?x=1",
    "/api/2.0/mlflow-artifacts/artifacts?path=..%2f..",  # the query is checked as a value, not here
    "http://host/api/2.0/mlflow-artifacts/artifacts/x",
    # what MLflow <= 3.6 clients send for a step image (requests escapes every "%" of the name)
    "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/images/acc%25step%253%25timestamp%251700000000000%252f4e.png",
    "/api/2.0/mlflow-artifacts/artifacts/a%252fb",
]

RAW_BAD = [
    "/api/2.0/mlflow-artifacts/artifacts/../x",
    "/api/2.0/mlflow-artifacts/artifacts/1/%2e%2e/%2e%2e/x",
    "/api/2.0/mlflow-artifacts/artifacts/..%2f..%2fx",
    "/api/2.0/mlflow-artifacts/artifacts/a%2Fb",
    "/api/2.0/mlflow-artifacts/artifacts/a%5cb",
    "/api/2.0/mlflow-artifacts/artifacts/a%00b",
    "/api/2.0/mlflow-artifacts/artifacts/%252e%252e/x",
    "/api/2.0/mlflow-artifacts/artifacts/a%0ab",
    "/api/2.0/mlflow-artifacts/artifacts/a/%25252e%25252e%25252fx",
    "http://host/api/2.0/mlflow-artifacts/artifacts/%2e%2e/x",
]


@pytest.mark.parametrize("raw", RAW_GOOD)
def test_raw_request_paths_accepted(raw):
    check_raw_request_path(raw)


@pytest.mark.parametrize("raw", RAW_BAD)
def test_raw_request_paths_refused(raw):
    with pytest.raises(MlflowError) as info:
        check_raw_request_path(raw)
    assert info.value.message == "Invalid path"


def test_join_key():
    assert join_key("42", "3/abc/artifacts", "", "x.txt") == "42/3/abc/artifacts/x.txt"
    assert join_key("", "a") == "a"
