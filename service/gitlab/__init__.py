"""The GitLab adapter: the only code of service/ that talks to GitLab (through python-gitlab)."""
from mltracker.service.gitlab.client import (
    GitLabAdapter,
    GitLabForbidden,
    GitLabJob,
    GitLabNotVisible,
    GitLabProject,
    GitLabRateLimited,
    GitLabRefusedRequest,
    GitLabTokenRejected,
    GitLabUnavailable,
    GitLabUser,
    translated,
)

__all__ = [
    "GitLabAdapter",
    "GitLabForbidden",
    "GitLabJob",
    "GitLabNotVisible",
    "GitLabProject",
    "GitLabRateLimited",
    "GitLabRefusedRequest",
    "GitLabTokenRejected",
    "GitLabUnavailable",
    "GitLabUser",
    "translated",
]
