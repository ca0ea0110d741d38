"""GitLab's answers to the bot's writes, sorted by what the job should do next.

- 429: GitLab's rate limiter says when to come back (`Retry-After`; the adapter raises
  GitLabRateLimited before python-gitlab could sleep): the job is queued again for then
  (RetryAfter) and no thread waits.
- 408, 409 (GitLab's "another update is in progress"), 5xx, timeouts, connection errors: temporary
  (TransientError, retried with backoff).
- every other 4xx (400, 401, 403, 404, 422, ...): GitLab refused this request and will refuse it
  again; the job fails at once (PermanentError), logged with the request and GitLab's message.
Tokens never reach a log line: requests carry them in headers, which are not logged.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

import requests
from gitlab import exceptions as gl_exc

from mltracker.service.gitlab import (
    GitLabForbidden, GitLabNotVisible, GitLabRateLimited, GitLabTokenRejected, GitLabUnavailable,
)
from mltracker.service.jobs.worker import PermanentError, RetryAfter, TransientError

log = logging.getLogger("mltracker.bot")

TEMPORARY_CODES = {408, 409, 429}
LOGGED_VALUE_CHARS = 300


class GitLabRefused(PermanentError):
    """GitLab refused the request (a 4xx other than 408/409/429); repeating it cannot help."""

    def __init__(self, request: str, status: int | None, message: str):
        super().__init__(f"{request}: GitLab answered {status}: {message}")
        self.status, self.gitlab_message = status, message


@contextmanager
def gitlab_call(method: str, path: str, sent: dict | None = None) -> Iterator[None]:
    """Classify whatever the GitLab call inside raises (see the module docstring)."""
    request = f"{method} {path}"
    try:
        yield
    except (PermanentError, TransientError):
        raise
    except GitLabRateLimited as exc:
        raise RetryAfter(f"{request}: GitLab answered 429, retry after {exc.retry_after} s",
                         exc.retry_after * 1000) from None
    except gl_exc.GitlabError as exc:
        code = getattr(exc, "response_code", None)
        message = _text(getattr(exc, "error_message", "") or "")
        if code is None or code in TEMPORARY_CODES or code >= 500:
            raise TransientError(f"{request}: GitLab answered {code or 'garbage'}") from None
        raise refused(request, code, message, sent) from None
    except (GitLabTokenRejected, GitLabNotVisible, GitLabForbidden) as exc:
        code = {GitLabTokenRejected: 401, GitLabNotVisible: 404, GitLabForbidden: 403}[type(exc)]
        raise refused(request, code, str(exc), sent) from None
    except GitLabUnavailable as exc:
        raise TransientError(f"{request}: {exc}") from None
    except requests.RequestException as exc:
        raise TransientError(f"{request}: {type(exc).__name__}") from None


def refused(request: str, code: int, message: str, sent: dict | None) -> GitLabRefused:
    shown = {k: _text(v)[:LOGGED_VALUE_CHARS] for k, v in (sent or {}).items()}
    log.error("GitLab refused %s (HTTP %s): %s; sent %s", request, code, message, shown)
    return GitLabRefused(request, code, message)


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)
