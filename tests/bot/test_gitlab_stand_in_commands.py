"""The GitLab stand-in answers as GitLab does for what comment commands and `mltracker webhook add`
rely on — and the bot's port turns those answers into the right outcome."""
from __future__ import annotations

import pytest
import requests

from mltracker.bot.gitlab_port import BotGitLab
from mltracker.service.gitlab import GitLabNotVisible
from tests.bot.conftest import BOT_NAME, BOT_TOKEN, new_id


@pytest.fixture
def project(fake):
    project_id = new_id()
    fake.add_project(id=project_id, visibility="private", members={})
    return project_id


def _api(fake, method, path, token=BOT_TOKEN, **kwargs):
    return requests.request(method, f"{fake.url}/api/v4{path}", headers={"PRIVATE-TOKEN": token},
                            timeout=10, **kwargs)


def test_awarding_the_same_emoji_twice_is_gitlabs_404_and_the_port_takes_it_as_done(fake, project):
    note = new_id()
    fake.add_note(project_id=project, iid=1, body="hi", username=BOT_NAME, note_id=note)
    path = f"/projects/{project}/merge_requests/1/notes/{note}/award_emoji"
    assert _api(fake, "POST", path, json={"name": "eyes"}).status_code == 201
    again = _api(fake, "POST", path, json={"name": "eyes"})
    assert again.status_code == 404
    assert again.json() == {"message": "404 Award Emoji Name has already been taken Not Found"}
    BotGitLab(fake.url, BOT_TOKEN, timeout=5).react(project, 1, note, "eyes")  # no error
    assert len(fake.bot_state()["awards"]) == 1


def test_a_note_is_read_back_only_through_its_own_merge_request(fake, project):
    note = new_id()
    fake.add_note(project_id=project, iid=1, body="@bot help", username=BOT_NAME, internal=True, note_id=note)
    gitlab = BotGitLab(fake.url, BOT_TOKEN, timeout=5)
    read = gitlab.command_note(project, 1, note)
    assert (read.body, read.merge_request_iid, read.project_id, read.internal) == ("@bot help", 1, project, True)
    with pytest.raises(GitLabNotVisible):
        gitlab.command_note(project, 2, note)


def test_replies_in_a_thread_are_as_internal_as_the_thread(fake, project):
    internal = new_id()
    fake.add_note(project_id=project, iid=1, body="secret", username=BOT_NAME, discussion_id="d-int",
                  internal=True, note_id=internal)
    fake.add_note(project_id=project, iid=1, body="open", username=BOT_NAME, discussion_id="d-pub")
    gitlab = BotGitLab(fake.url, BOT_TOKEN, timeout=5)
    into_internal = gitlab.reply(project, 1, "d-int", "reply", internal=False)
    into_public = gitlab.reply(project, 1, "d-pub", "reply", internal=True)
    top_level = gitlab.reply(project, 1, None, "reply", internal=True)
    notes = {n["id"]: n for n in fake.bot_state()["notes"][f"{project}/1"]}
    assert notes[into_internal]["internal"] is True
    assert notes[into_public]["internal"] is False
    assert notes[top_level]["internal"] is True
    thread = _api(fake, "GET", f"/projects/{project}/merge_requests/1/discussions/d-int").json()
    assert [n["id"] for n in thread["notes"]] == [internal, into_internal]
    assert _api(fake, "GET", f"/projects/{project}/merge_requests/1/discussions/nope").status_code == 404
    assert _api(fake, "POST", f"/projects/{project}/merge_requests/1/discussions/nope/notes",
                json={"body": "x"}).status_code == 404


def test_project_hooks_need_maintainer_and_never_show_their_token(fake, project):
    uid = new_id()
    fake.add_user(id=uid, username=f"dev{uid}")
    fake.add_token(token=f"glpat-{uid}", user_id=uid)
    fake.set_member(project_id=project, user_id=uid, access_level=30)
    hook = {"url": "https://mltracker.example.com/webhooks/gitlab", "token": "s3cret", "note_events": True}
    assert _api(fake, "POST", f"/projects/{project}/hooks", token=f"glpat-{uid}", json=hook).status_code == 403
    created = _api(fake, "POST", f"/projects/{project}/hooks", json=hook)
    assert created.status_code == 201 and "token" not in created.json()
    assert created.json()["push_events"] is True  # GitLab's default unless sent false
    hook_id = created.json()["id"]
    updated = _api(fake, "PUT", f"/projects/{project}/hooks/{hook_id}", json={"url": hook["url"], "token": "new"})
    assert updated.status_code == 200 and "token" not in updated.json()
    assert fake.state.hooks[hook_id]["token"] == "new"
    assert _api(fake, "PUT", f"/projects/{project}/hooks/999999", json=hook).status_code == 404
