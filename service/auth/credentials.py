"""The token a request carries, and what its shape tells about its kind.

The MLflow client sends `MLFLOW_TRACKING_TOKEN` as `Authorization: Bearer <token>`, or
`MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD` as Basic (the token is the password).
GitLab's own headers are accepted too: `JOB-TOKEN` (curl in a CI job) and `PRIVATE-TOKEN`.

Telling a CI job token from the others, cheapest first:
1. the header says so: `JOB-TOKEN`, or Basic with the user name `gitlab-ci-token` (GitLab's own
   convention for job tokens) → job; `PRIVATE-TOKEN` → user token;
2. the documented prefixes: `glcbt-` (CI job tokens, GitLab 16.8+/GitLab.com) → job;
   `glpat-` (personal, project and group access tokens) → user token;
3. otherwise (OAuth tokens, job tokens of instances without prefixes): `GET /user` as Bearer
   first and, if GitLab answers 401, `GET /job` with `JOB-TOKEN`. The answer is cached, so the
   second call happens at most once per token and TTL.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Mapping

from flask import Request

from mltracker.service.auth.cache import token_digest

JOB, USER = "job", "user"
JOB_TOKEN_PREFIX = "glcbt-"
USER_TOKEN_PREFIXES = ("glpat-",)
CI_BASIC_USERNAME = "gitlab-ci-token"


@dataclass(frozen=True)
class Credential:
    token: str = field(repr=False)
    hint: str | None  # JOB, USER or None (unknown: try the user token, then the job token)

    @property
    def digest(self) -> str:
        return token_digest(self.token)

    @property
    def cache_key(self) -> tuple[str | None, str]:
        """What a cached decision is about: the token and how it was sent. A token sent as the
        wrong kind (a personal token as JOB-TOKEN) is refused without poisoning the right kind."""
        return (self.hint, self.digest)


def kind_from_shape(token: str) -> str | None:
    head = token[:64]
    if JOB_TOKEN_PREFIX in head:
        return JOB
    if token.startswith(USER_TOKEN_PREFIXES):
        return USER
    return None


def credential_of(request: Request) -> Credential | None:
    """The request's credential, or None when it carries none."""
    return credential_in(request.headers)


def credential_in(headers: Mapping[str, str]) -> Credential | None:
    """The credential in a request's headers (read case-insensitively, as Werkzeug's headers
    are), or None when they carry none."""
    job_header = headers.get("JOB-TOKEN", "").strip()
    if job_header:
        return Credential(job_header, JOB)
    private_header = headers.get("PRIVATE-TOKEN", "").strip()
    if private_header:
        return Credential(private_header, USER)
    authorization = headers.get("Authorization", "").strip()
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return Credential(value, kind_from_shape(value))
    if scheme.lower() == "basic" and value:
        try:
            username, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if not password:
            return None
        hint = JOB if username == CI_BASIC_USERNAME else kind_from_shape(password)
        return Credential(password, hint)
    return None
