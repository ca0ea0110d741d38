"""The one permission policy: which GitLab role reading, writing and promoting need, for the API,
the web UI and the bot alike. Reporter reads (or anyone, on a public or internal project),
Developer writes, and promoting needs MLTRACKER_PROMOTE_MIN_ACCESS_LEVEL (Developer by default)."""
from __future__ import annotations

import re
from dataclasses import dataclass

GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 20, 30, 40, 50
READ, WRITE = REPORTER, DEVELOPER

ROLE_NAMES = {0: "no", 5: "Minimal", 10: "Guest", 15: "Planner", 20: "Reporter", 30: "Developer",
              40: "Maintainer", 50: "Owner"}

READ_METHODS = ("GET", "HEAD", "OPTIONS")
# MLflow's searches are POSTs that change nothing.
READ_ONLY_POSTS = (
    "/runs/search",
    "/experiments/search",
    "/registered-models/search",
    "/model-versions/search",
    "/logged-models/search",
    "/registered-models/get-latest-versions",
    "/experiments/search-datasets",
    "/datasets/search",
    "/traces/search",
    "/traces/batchGetInfos",
    "/graphql",  # every query and mutation mltracker serves there only reads
)
READABLE_VISIBILITIES = ("public", "internal")
# Registry webhooks send the project's registry events to any URL and list where they go (a URL may
# hold a token): Maintainer, as for GitLab's own project hooks, whatever the method.
WEBHOOKS_PATH = re.compile(r"/(?:ajax-)?api/2\.0/mlflow/webhooks(?:/|$)")
# AI Gateway secrets are provider credentials: Maintainer, as for GitLab's CI/CD variables.
GATEWAY_SECRETS_PATH = re.compile(r"/(?:ajax-)?api/3\.0/mlflow/gateway/secrets/(?!config$)")


@dataclass(frozen=True)
class AccessPolicy:
    promote_level: int = DEVELOPER
    read_level: int = READ
    write_level: int = WRITE

    def may_read(self, level: int) -> bool:
        return level >= self.read_level

    def may_write(self, level: int) -> bool:
        return level >= self.write_level

    def may_promote(self, level: int) -> bool:
        return level >= self.promote_level

    @property
    def least_changing_level(self) -> int:
        """The least role any change needs (a form post of the UI is at least this)."""
        return min(self.write_level, self.promote_level)


def access_policy(settings) -> AccessPolicy:
    return AccessPolicy(promote_level=settings.promote_min_access_level)


def role_name(level: int | None) -> str:
    if level is None:
        return "no"
    return ROLE_NAMES.get(level) or f"level {level}"


def required_level(method: str, path: str) -> int:
    method = method.upper()
    if WEBHOOKS_PATH.search(path) or GATEWAY_SECRETS_PATH.search(path):
        return MAINTAINER
    if method in READ_METHODS:
        return READ
    if method == "POST" and path.rstrip("/").endswith(READ_ONLY_POSTS):
        return READ
    return WRITE
