"""GitLab's answers to the bot's calls, sorted by what the job should do next.

service/gitlab translates every answer (`translated`); this module only maps the adapter's outcomes
onto the job queue's:
- 429 (`GitLabRateLimited`): GitLab says when to come back; the job is queued again for then
  (RetryAfter) and no thread waits.
- unavailable (408, 409 "another update is in progress", 5xx, timeouts, connection errors):
  temporary (TransientError, retried with backoff).
- refused (`GitLabRefusedRequest`: 400, 422, …; 401, 403, 404): GitLab will refuse it again; the
  job fails at once (GitLabRefused, a PermanentError), logged with the request and GitLab's message.
  A caller for which 404 is an answer ("not a note of this merge request") asks to get
  `GitLabNotVisible` instead.
Tokens never reach a log line: requests carry them in headers, which are not logged.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

from mltracker.service.gitlab import (
    GitLabForbidden, GitLabNotVisible, GitLabRateLimited, GitLabRefusedRequest, GitLabTokenRejected,
    GitLabUnavailable, translated,
)
from mltracker.service.jobs.worker import PermanentError, RetryAfter, TransientError

log = logging.getLogger("mltracker.bot")

LOGGED_VALUE_CHARS = 300
_REFUSED_STATUS = {GitLabTokenRejected: 401, GitLabForbidden: 403, GitLabNotVisible: 404}


class GitLabRefused(PermanentError):
    """GitLab refused the request (a 4xx other than 408/409/429); repeating it cannot help."""

    def __init__(self, request: str, status: int | None, message: str):
        super().__init__(f"{request}: GitLab answered {status}: {message}")
        self.status, self.gitlab_message = status, message


@contextmanager
def gitlab_call(method: str, path: str, sent: dict | None = None, *, not_visible: bool = False) -> Iterator[None]:
    """Classify whatever the GitLab call inside raises (see the module docstring). With
    `not_visible`, a 404 stays `GitLabNotVisible` for the caller to decide."""
    request = f"{method} {path}"
    try:
        with translated(request):
            yield
    except GitLabRateLimited as exc:
        raise RetryAfter(f"{request}: GitLab answered 429, retry after {exc.retry_after} s",
                         exc.retry_after * 1000) from None
    except GitLabRefusedRequest as exc:
        raise refused(request, exc.status, exc.gitlab_message, sent) from None
    except GitLabUnavailable as exc:
        raise TransientError(str(exc)) from None
    except GitLabNotVisible:
        if not_visible:
            raise
        raise refused(request, 404, "404 Not found", sent) from None
    except (GitLabTokenRejected, GitLabForbidden) as exc:
        raise refused(request, _REFUSED_STATUS[type(exc)], str(exc), sent) from None


def refused(request: str, code: int, message: str, sent: dict | None) -> GitLabRefused:
    shown = {k: str(v)[:LOGGED_VALUE_CHARS] for k, v in (sent or {}).items()}
    log.error("GitLab refused %s (HTTP %s): %s; sent %s", request, code, message, shown)
    return GitLabRefused(request, code, message)

