"""The GitLab stand-in behaves as GitLab does where the bot depends on it, and the bot's GitLab port
sorts GitLab's answers into what a job does next."""
from __future__ import annotations

import pytest
import requests

from mltracker.bot.gitlab_errors import GitLabRefused
from mltracker.bot.gitlab_port import BotGitLab
from mltracker.service.jobs.worker import RetryAfter, TransientError
from tests.bot.conftest import BOT_TOKEN, BOT_NAME, new_id

SHA = "f" * 40


@pytest.fixture
def project(fake):
    project_id = new_id()
    fake.add_project(id=project_id, visibility="private", members={})
    return project_id


def _api(fake, method, path, **kwargs):
    return requests.request(method, f"{fake.url}/api/v4{path}", headers={"PRIVATE-TOKEN": BOT_TOKEN},
                            timeout=10, **kwargs)


def test_notes_come_in_pages_of_20_by_default_and_100_at_most_newest_first(fake, project):
    for i in range(130):
        fake.add_note(project_id=project, iid=1, body=f"note {i}", username=BOT_NAME)
    first = _api(fake, "GET", f"/projects/{project}/merge_requests/1/notes")
    assert len(first.json()) == 20 and first.headers["X-Per-Page"] == "20"
    assert first.headers["X-Total"] == "130" and first.headers["X-Total-Pages"] == "7"
    assert first.headers["X-Next-Page"] == "2" and first.headers["X-Prev-Page"] == ""
    assert 'rel="next"' in first.headers["Link"] and 'rel="last"' in first.headers["Link"]
    assert [n["body"] for n in first.json()[:2]] == ["note 129", "note 128"]  # sort=desc by default

    big = _api(fake, "GET", f"/projects/{project}/merge_requests/1/notes", params={"per_page": 500, "sort": "asc"})
    assert len(big.json()) == 100 and big.headers["X-Per-Page"] == "100"
    assert big.json()[0]["body"] == "note 0"
    last = _api(fake, "GET", f"/projects/{project}/merge_requests/1/notes", params={"per_page": 100, "page": 2})
    assert len(last.json()) == 30 and last.headers["X-Next-Page"] == ""


def test_notes_ordered_by_updated_at_move_an_edited_note(fake, project):
    ids = [fake_note(fake, project, f"n{i}") for i in range(3)]
    assert _api(fake, "PUT", f"/projects/{project}/merge_requests/1/notes/{ids[0]}", json={"body": "edited"}).ok
    listed = _api(fake, "GET", f"/projects/{project}/merge_requests/1/notes", params={"order_by": "updated_at"})
    assert [n["id"] for n in listed.json()] == [ids[0], ids[2], ids[1]]


def fake_note(fake, project, body) -> int:
    answer = _api(fake, "POST", f"/projects/{project}/merge_requests/1/notes", json={"body": body})
    return answer.json()["id"]


def test_uploads_answer_as_gitlab_and_get_a_new_secret_each_time(fake, project):
    answers = [_api(fake, "POST", f"/projects/{project}/uploads", files={"file": ("plot.png", b"\x89PNG same")}).json()
               for _ in range(2)]
    for answer in answers:
        assert set(answer) >= {"id", "alt", "url", "full_path", "markdown"}
        assert answer["alt"] == "plot" and answer["url"].startswith("/uploads/") and answer["url"].endswith("/plot.png")
        assert answer["markdown"] == f"![plot]({answer['url']})"
        assert answer["full_path"] == f"/-/project/{project}{answer['url']}"
    assert answers[0]["url"] != answers[1]["url"]


def test_statuses_join_the_pipeline_given_or_make_an_external_one(fake, project):
    fake.add_pipeline(id=77, project_id=project, sha=SHA, ref="refs/merge-requests/3/head",
                      source="merge_request_event")
    by_id = _api(fake, "POST", f"/projects/{project}/statuses/{SHA}",
                 json={"state": "success", "pipeline_id": 77, "ref": "refs/merge-requests/3/head"})
    assert by_id.status_code == 201 and by_id.json()["pipeline_id"] == 77
    wrong_ref = _api(fake, "POST", f"/projects/{project}/statuses/{SHA}",
                     json={"state": "success", "pipeline_id": 77, "ref": "feature"})
    assert wrong_ref.status_code == 404
    by_branch = _api(fake, "POST", f"/projects/{project}/statuses/{SHA}", json={"state": "success", "ref": "feature"})
    assert by_branch.status_code == 201 and by_branch.json()["pipeline_id"] != 77
    assert by_branch.json()["pipeline_source"] == "external"
    too_long = _api(fake, "POST", f"/projects/{project}/statuses/{SHA}",
                    json={"state": "success", "pipeline_id": 77, "target_url": "http://x/" + "a" * 250})
    assert too_long.status_code == 400
    assert too_long.json() == {"message": {"target_url": ["is too long (maximum is 255 characters)"]}}


def test_rate_limited_calls_answer_429_with_retry_after(fake, project):
    fake.rate_limit_next(count=1, retry_after=7, path="/statuses/")
    answer = _api(fake, "POST", f"/projects/{project}/statuses/{SHA}", json={"state": "success"})
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert answer.text == "Retry later\n" and answer.headers["RateLimit-Remaining"] == "0"


def test_the_port_sorts_gitlabs_answers(fake, project):
    gitlab = BotGitLab(fake.url, BOT_TOKEN, timeout=5)
    fake.add_pipeline(id=78, project_id=project, sha=SHA, ref="main")
    with pytest.raises(GitLabRefused) as refused:  # 400: permanent
        gitlab.set_commit_status(project, SHA, "bogus", "d", None, ref="main", pipeline_id=78)
    assert refused.value.status == 400
    with pytest.raises(GitLabRefused):  # 404: no such pipeline for this sha and ref
        gitlab.set_commit_status(project, SHA, "success", "d", None, ref="other", pipeline_id=78)
    fake.rate_limit_next(count=1, retry_after=9, path="/statuses/")
    with pytest.raises(RetryAfter) as limited:
        gitlab.set_commit_status(project, SHA, "success", "d", None, ref="main", pipeline_id=78)
    assert limited.value.delay_ms == 9000
    fake.fail_next(count=1, status=502, path="/statuses/")
    with pytest.raises(TransientError) as unavailable:
        gitlab.set_commit_status(project, SHA, "success", "d", None, ref="main", pipeline_id=78)
    assert not isinstance(unavailable.value, RetryAfter)
    gitlab.set_commit_status(project, SHA, "success", "d", "http://short", ref="main", pipeline_id=78)
    assert fake.bot_state()["statuses"][-1]["pipeline_id"] == 78
