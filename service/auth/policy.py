"""Which GitLab role an MLflow request needs: Reporter to read, Developer to write."""
from __future__ import annotations

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
)
READABLE_VISIBILITIES = ("public", "internal")


def role_name(level: int | None) -> str:
    if level is None:
        return "no"
    return ROLE_NAMES.get(level) or f"level {level}"


def required_level(method: str, path: str) -> int:
    method = method.upper()
    if method in READ_METHODS:
        return READ
    if method == "POST" and path.rstrip("/").endswith(READ_ONLY_POSTS):
        return READ
    return WRITE
