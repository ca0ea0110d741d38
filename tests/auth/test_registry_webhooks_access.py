"""GitLab mode: registry webhooks are a Maintainer's business (as GitLab's own project hooks are):
a Developer may neither list nor create them; a Maintainer manages them with the stock client."""
from __future__ import annotations

import pytest
import requests
from mlflow.entities.webhook import WebhookAction, WebhookEntity, WebhookEvent

from tests.fakes.gitlab_support import DEVELOPER, MAINTAINER, REPORTER, api, bearer

EVENTS = [WebhookEvent(WebhookEntity.MODEL_VERSION_ALIAS, WebhookAction.CREATED)]


@pytest.mark.parametrize("level", [REPORTER, DEVELOPER])
def test_below_maintainer_is_refused(gitlab_server, scenario, level):
    user = scenario.user("member")
    project = scenario.project(members={user: level})
    listed = requests.get(api(gitlab_server.url, project, "webhooks"), headers=bearer(user.token), timeout=30)
    created = requests.post(api(gitlab_server.url, project, "webhooks"), headers=bearer(user.token), timeout=30,
                            json={"name": "deploy", "url": "https://1.1.1.1/hook",
                                  "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]})
    for response in (listed, created):
        assert response.status_code == 403, response.text
        assert response.json()["error_code"] == "PERMISSION_DENIED"


def test_maintainer_manages_webhooks(gitlab_server, scenario, client_as):
    maintainer = scenario.user("maintainer")
    project = scenario.project(members={maintainer: MAINTAINER})
    client = client_as(maintainer.token, project)
    webhook = client.create_webhook(name="deploy", url="https://1.1.1.1/hook", events=EVENTS, secret="s")
    assert [w.webhook_id for w in client.list_webhooks()] == [webhook.webhook_id]
    other = scenario.project(members={maintainer: MAINTAINER})
    assert list(client_as(maintainer.token, other).list_webhooks()) == []
    client.delete_webhook(webhook.webhook_id)
