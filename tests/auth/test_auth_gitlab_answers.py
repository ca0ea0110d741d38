"""How authentication follows what GitLab answers: rate limits fail fast with GitLab's wait, the
decision cache keeps credential kinds apart, and a CI job never gets write access by default."""
from __future__ import annotations

import pytest
import requests

from tests.fakes.gitlab_support import BOT_TOKEN, DEVELOPER, REPORTER, api, bearer
from mltracker.service.auth.authorizer import Authorizer
from mltracker.service.auth.cache import DecisionCache
from mltracker.service.auth.credentials import JOB, USER, Credential
from mltracker.service.auth.policy import READ, WRITE
from mltracker.service.errors import MlflowError
from mltracker.service.gitlab import GitLabAdapter, GitLabRateLimited


def _search(server, project: int, headers: dict) -> requests.Response:
    return requests.get(api(server.url, project, "experiments/search"), params={"max_results": 5},
                        headers=headers, timeout=20)


@pytest.fixture
def throttled(fake_gitlab):
    def start(retry_after: int, count: int | None = None):
        fake_gitlab.rate_limit(retry_after=retry_after, count=count)
    yield start
    fake_gitlab.rate_limit(retry_after=1, count=0)


def test_gitlab_rate_limit_fails_fast_with_its_wait(gitlab_server, scenario, throttled):
    user = scenario.user("busy")
    project = scenario.project(members={user: DEVELOPER})
    scenario.fake.clear_requests()
    throttled(retry_after=30)
    # python-gitlab's default waits out Retry-After 10 times (300 s here): the read would time out.
    response = _search(gitlab_server, project, bearer(user.token))
    assert response.status_code == 503, response.text
    assert response.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert "rate limiting" in response.json()["message"]
    assert response.headers["Retry-After"] == "30"
    assert scenario.fake.count("/api/v4/user", token=user.token) == 1  # asked once, not retried


def test_rate_limit_is_not_cached(gitlab_server, scenario, throttled):
    user = scenario.user("later")
    project = scenario.project(members={user: REPORTER})
    throttled(retry_after=5, count=1)
    assert _search(gitlab_server, project, bearer(user.token)).status_code == 503
    assert _search(gitlab_server, project, bearer(user.token)).status_code == 200


def test_adapter_raises_the_wait_and_makes_one_call(fake_gitlab, scenario, throttled):
    user = scenario.user("adapter")
    fake_gitlab.clear_requests()
    throttled(retry_after=7)
    with pytest.raises(GitLabRateLimited) as raised:
        GitLabAdapter(fake_gitlab.url, BOT_TOKEN, timeout=5, max_retries=3).current_user(user.token)
    assert raised.value.retry_after == 7
    assert fake_gitlab.count("/api/v4/user") == 1


def test_a_token_sent_as_the_wrong_kind_does_not_poison_the_cache(fake_gitlab, scenario):
    authorizer = Authorizer(GitLabAdapter(fake_gitlab.url, BOT_TOKEN, timeout=5), DecisionCache(ttl_s=60))
    user = scenario.user("kinds")
    project = scenario.project(members={user: DEVELOPER})
    # A personal token sent as JOB-TOKEN is refused (GitLab's /job refuses it) ...
    with pytest.raises(MlflowError) as refused:
        authorizer.authorize(Credential(user.token, JOB), project, READ)
    assert refused.value.error_code == "UNAUTHENTICATED"
    # ... and that cached refusal is not the answer for the same token sent as a user token.
    assert authorizer.authorize(Credential(user.token, USER), project, WRITE).access.level == DEVELOPER
    # The other way round: a cached allow as a user token does not make JOB-TOKEN accepted.
    other = scenario.user("kinds2")
    project2 = scenario.project(members={other: DEVELOPER})
    assert authorizer.authorize(Credential(other.token, USER), project2, READ)
    with pytest.raises(MlflowError) as refused:
        authorizer.authorize(Credential(other.token, JOB), project2, READ)
    assert refused.value.error_code == "UNAUTHENTICATED"


# ---------------------------------------------------------------- CI jobs whose role cannot be asked

def _authorizer(fake_gitlab, bot_token):
    return Authorizer(GitLabAdapter(fake_gitlab.url, bot_token, timeout=5), DecisionCache(ttl_s=0))


def test_job_in_a_project_the_bot_cannot_see_gets_no_write(fake_gitlab, scenario):
    bot = scenario.user("narrowbot")  # not an admin: sees only the projects it is a member of
    reporter = scenario.user("rep")
    project = scenario.project(members={reporter: REPORTER})
    job = scenario.job(project, reporter)
    authorizer = _authorizer(fake_gitlab, bot.token)
    with pytest.raises(MlflowError) as refused:
        authorizer.authorize(Credential(job.token, JOB), project, WRITE)
    assert refused.value.error_code == "PERMISSION_DENIED"
    assert "bot token cannot see the project" in refused.value.message
    assert authorizer.authorize(Credential(job.token, JOB), project, READ).access.level == REPORTER
    # Once the bot may see the project, GitLab's answer for the job's user decides.
    scenario.add_member(project, bot, REPORTER)
    with pytest.raises(MlflowError):
        authorizer.authorize(Credential(job.token, JOB), project, WRITE)
    developer = scenario.user("dev")
    scenario.add_member(project, developer, DEVELOPER)
    dev_job = scenario.job(project, developer)
    assert authorizer.authorize(Credential(dev_job.token, JOB), project, WRITE).access.level == DEVELOPER


def test_job_without_a_bot_token_reads_but_does_not_write_by_default(fake_gitlab, scenario):
    developer = scenario.user("dev")
    project = scenario.project(members={developer: DEVELOPER})
    job = scenario.job(project, developer)
    authorizer = _authorizer(fake_gitlab, None)
    assert authorizer.authorize(Credential(job.token, JOB), project, READ)
    with pytest.raises(MlflowError) as refused:
        authorizer.authorize(Credential(job.token, JOB), project, WRITE)
    assert "MLTRACKER_GITLAB_TOKEN" in refused.value.message
