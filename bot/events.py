"""GitLab webhook payloads → host-neutral events the bot acts on (or None: nothing to do).

A payload is a claim, not a fact: events carry only ids the bot then checks with GitLab's API. No
URL is taken from a payload (`pipeline_url` and `project_url` stay empty);
links are built from MLTRACKER_PUBLIC_URL and GitLab's own answers.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

FINISHED_PIPELINE_STATUSES = ("success", "failed")


@dataclass(frozen=True)
class PipelineFinished:
    project_id: int
    pipeline_id: int
    status: str
    ref: str
    sha: str
    merge_request_iid: int | None
    pipeline_url: str
    project_url: str | None = None
    merge_request_project_id: int | None = None
    finished_at: str = ""
    jobs: str = ""  # the pipeline's job ids, sorted and joined: a retried job is a new id

    @property
    def dedupe_key(self) -> str:
        """Without a delivery id: the same pipeline finishing again (a retried job: new finish time,
        new job ids) is new work; the same finish delivered twice is not."""
        finish = hashlib.sha1(f"{self.finished_at}|{self.jobs}".encode()).hexdigest()[:16]
        return f"pipeline:{self.project_id}:{self.pipeline_id}:{self.status}:{finish}"


@dataclass(frozen=True)
class MergeRequestOpened:
    project_id: int
    merge_request_iid: int
    head_pipeline_id: int | None
    sha: str = ""
    ref: str = ""
    project_url: str | None = None

    @property
    def dedupe_key(self) -> str:
        return f"mr-open:{self.project_id}:{self.merge_request_iid}:{self.head_pipeline_id}"


@dataclass(frozen=True)
class MergeRequestComment:
    project_id: int
    merge_request_iid: int
    merge_request_state: str
    note_id: int
    discussion_id: str | None
    body: str
    author_id: int
    author_username: str
    project_url: str | None = None

    @property
    def dedupe_key(self) -> str:
        return f"note:{self.project_id}:{self.note_id}"


Event = PipelineFinished | MergeRequestOpened | MergeRequestComment
KINDS = {PipelineFinished: "pipeline", MergeRequestOpened: "merge_request", MergeRequestComment: "comment"}
BY_KIND = {kind: cls for cls, kind in KINDS.items()}


def to_payload(event: Event) -> dict:
    return asdict(event)


def from_payload(kind: str, payload: dict) -> Event:
    fields = dict(payload)
    # Jobs stored by earlier versions may still hold URLs copied from a payload: never use them.
    fields.pop("project_url", None)
    if "pipeline_url" in fields:
        fields["pipeline_url"] = ""
    return BY_KIND[kind](**fields)


def parse_event(event_header: str | None, body: dict) -> Event | None:
    parser = _PARSERS.get(event_header or "")
    if parser is None or not isinstance(body, dict):
        return None
    try:
        return parser(body)
    except (KeyError, TypeError, ValueError):
        return None


def _pipeline(body: dict) -> PipelineFinished | None:
    attrs = body["object_attributes"]
    if attrs.get("status") not in FINISHED_PIPELINE_STATUSES:
        return None
    mr = body.get("merge_request") or {}
    builds = body.get("builds") or []
    return PipelineFinished(
        project_id=int(body["project"]["id"]),
        pipeline_id=int(attrs["id"]),
        status=attrs["status"],
        ref=str(attrs.get("ref") or ""),
        sha=str(attrs.get("sha") or ""),
        merge_request_iid=int(mr["iid"]) if mr.get("iid") is not None else None,
        pipeline_url="",
        merge_request_project_id=int(mr["target_project_id"]) if mr.get("target_project_id") is not None else None,
        finished_at=str(attrs.get("finished_at") or ""),
        jobs=",".join(sorted(str(b.get("id")) for b in builds if isinstance(b, dict))),
    )


def _merge_request(body: dict) -> MergeRequestOpened | None:
    attrs = body["object_attributes"]
    if attrs.get("action") not in ("open", "reopen"):
        return None
    head = attrs.get("head_pipeline_id")
    return MergeRequestOpened(
        project_id=int(body["project"]["id"]),
        merge_request_iid=int(attrs["iid"]),
        head_pipeline_id=int(head) if head is not None else None,
        sha=str((attrs.get("last_commit") or {}).get("id") or ""),
        ref=str(attrs.get("source_branch") or ""),
    )


def _note(body: dict) -> MergeRequestComment | None:
    attrs = body["object_attributes"]
    if attrs.get("noteable_type") != "MergeRequest" or attrs.get("system") or attrs.get("action", "create") != "create":
        return None
    mr = body["merge_request"]
    user = body.get("user") or {}
    return MergeRequestComment(
        project_id=int(body["project_id"] if "project_id" in body else body["project"]["id"]),
        merge_request_iid=int(mr["iid"]),
        merge_request_state=str(mr.get("state") or ""),
        note_id=int(attrs["id"]),
        discussion_id=attrs.get("discussion_id"),
        body=str(attrs.get("note") or ""),
        author_id=int(attrs.get("author_id") or user.get("id")),
        author_username=str(user.get("username") or ""),
    )


# Internal notes arrive as "Confidential Note Hook" (doc/user/project/integrations/webhook_events.md):
# the same payload as a Note Hook, sent only to hooks with confidential_note_events.
_PARSERS = {"Pipeline Hook": _pipeline, "Merge Request Hook": _merge_request, "Note Hook": _note,
            "Confidential Note Hook": _note}
