"""GitLab mode: AI Gateway secrets (provider credentials) are a Maintainer's business, as GitLab's
CI/CD variables are; model definitions and endpoints follow the usual read/write roles."""
from __future__ import annotations

import pytest
import requests

from tests.fakes.gitlab_support import DEVELOPER, MAINTAINER, REPORTER, bearer


def _gateway(base: str, project: int, path: str) -> str:
    return f"{base}/projects/{project}/api/3.0/mlflow/gateway/{path}"


@pytest.mark.parametrize("level", [REPORTER, DEVELOPER])
def test_secrets_below_maintainer_are_refused(gitlab_server, scenario, level):
    user = scenario.user("member")
    project = scenario.project(members={user: level})
    listed = requests.get(_gateway(gitlab_server.url, project, "secrets/list"), headers=bearer(user.token),
                          timeout=30)
    created = requests.post(_gateway(gitlab_server.url, project, "secrets/create"), headers=bearer(user.token),
                            timeout=30, json={"secret_name": "openai", "secret_value": {"api_key": "sk-1234567890"}})
    for response in (listed, created):
        assert response.status_code == 403, response.text
        assert response.json()["error_code"] == "PERMISSION_DENIED"
    config = requests.get(_gateway(gitlab_server.url, project, "secrets/config"), headers=bearer(user.token),
                          timeout=30)
    assert config.status_code == 200, config.text


def test_maintainer_manages_secrets_and_a_developer_uses_them(gitlab_server, scenario, client_as):
    maintainer, developer = scenario.user("maintainer"), scenario.user("developer")
    project = scenario.project(members={maintainer: MAINTAINER, developer: DEVELOPER})
    store = client_as(maintainer.token, project)._tracking_client.store
    secret = store.create_gateway_secret(secret_name="openai", secret_value={"api_key": "sk-1234567890"})
    assert [s.secret_id for s in store.list_secret_infos()] == [secret.secret_id]
    other = scenario.project(members={maintainer: MAINTAINER})
    assert client_as(maintainer.token, other)._tracking_client.store.list_secret_infos() == []

    as_developer = client_as(developer.token, project)._tracking_client.store
    definition = as_developer.create_gateway_model_definition(name="gpt", secret_id=secret.secret_id,
                                                              provider="openai", model_name="gpt-4")
    assert definition.secret_name == "openai"
