"""MLflow's AI Gateway configuration (secrets, model definitions, endpoints, their models and
bindings) through the stock client's store, side by side with `mlflow server` 3.17; and mltracker's
own: secrets sealed at rest, everything per project."""
from __future__ import annotations

import uuid

import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import GatewayEndpointModelConfig, GatewayModelLinkageType, GatewayResourceType
from mlflow.exceptions import MlflowException
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.e2e
GATEWAY = "/ajax-api/3.0/mlflow/gateway"
PRIMARY, FALLBACK = GatewayModelLinkageType.PRIMARY, GatewayModelLinkageType.FALLBACK


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _store(client: MlflowClient):
    return client._tracking_client.store


def _config(definition, linkage=PRIMARY) -> GatewayEndpointModelConfig:
    return GatewayEndpointModelConfig(model_definition_id=definition.model_definition_id, linkage_type=linkage)


def test_secret_lifecycle(any_client):
    store = _store(any_client)
    provider = _unique("provider")
    secret = store.create_gateway_secret(secret_name=_unique("openai-key"), secret_value={"api_key": "sk-test-12345"},
                                         provider=provider, auth_config={"region": "eu"})
    assert (secret.provider, secret.masked_values, secret.auth_config) == (provider, {"api_key": "sk-...2345"},
                                                                           {"region": "eu"})
    assert store.get_secret_info(secret.secret_id).secret_name == secret.secret_name

    rotated = store.update_gateway_secret(secret_id=secret.secret_id, secret_value={
        "aws_access_key_id": "AKIAROTATED5678", "aws_secret_access_key": "short"})
    assert rotated.masked_values == {"aws_access_key_id": "AKI...5678", "aws_secret_access_key": "***"}
    assert rotated.last_updated_at > secret.created_at
    assert rotated.auth_config == {"region": "eu"}  # unchanged when not sent

    other = store.create_gateway_secret(secret_name=_unique("other"), secret_value={"api_key": "x" * 20})
    assert [s.secret_id for s in store.list_secret_infos(provider=provider)] == [secret.secret_id]
    assert {secret.secret_id, other.secret_id} <= {s.secret_id for s in store.list_secret_infos()}

    store.delete_gateway_secret(secret.secret_id)
    assert secret.secret_id not in {s.secret_id for s in store.list_secret_infos()}
    with pytest.raises(MlflowException, match="GatewaySecret not found") as missing:
        store.get_secret_info(secret.secret_id)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_secret_names_are_unique(any_client):
    store = _store(any_client)
    name = _unique("dup")
    store.create_gateway_secret(secret_name=name, secret_value={"api_key": "sk-aaaaaaaaaa"})
    with pytest.raises(MlflowException, match=f"Secret with name '{name}' already exists") as dup:
        store.create_gateway_secret(secret_name=name, secret_value={"api_key": "sk-bbbbbbbbbb"})
    assert dup.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_model_definitions(any_client):
    store = _store(any_client)
    secret = store.create_gateway_secret(secret_name=_unique("key"), secret_value={"api_key": "sk-test-abcdef"})
    definition = store.create_gateway_model_definition(name=_unique("def"), secret_id=secret.secret_id,
                                                       provider="openai", model_name="gpt-4")
    assert (definition.secret_id, definition.secret_name, definition.provider, definition.model_name) == (
        secret.secret_id, secret.secret_name, "openai", "gpt-4")
    assert store.get_gateway_model_definition(definition.model_definition_id).name == definition.name

    changed = store.update_gateway_model_definition(model_definition_id=definition.model_definition_id,
                                                    provider="anthropic", model_name="claude-3-5-haiku-latest")
    assert (changed.provider, changed.model_name, changed.name) == ("anthropic", "claude-3-5-haiku-latest",
                                                                    definition.name)
    by_secret = store.list_gateway_model_definitions(secret_id=secret.secret_id)
    assert [d.model_definition_id for d in by_secret] == [definition.model_definition_id]

    store.delete_gateway_model_definition(definition.model_definition_id)
    assert definition.model_definition_id not in {
        d.model_definition_id for d in store.list_gateway_model_definitions()}
    with pytest.raises(MlflowException, match="GatewaySecret not found"):
        store.create_gateway_model_definition(name=_unique("def"), secret_id="s-missing", provider="openai",
                                              model_name="gpt-4")


def test_endpoints_models_and_bindings(any_client):
    store = _store(any_client)
    secret = store.create_gateway_secret(secret_name=_unique("key"), secret_value={"api_key": "sk-test-abcdef"})
    first, second = (store.create_gateway_model_definition(name=_unique("def"), secret_id=secret.secret_id,
                                                           provider="openai", model_name=model)
                     for model in ("gpt-4", "gpt-3.5-turbo"))
    endpoint = store.create_gateway_endpoint(name=_unique("chat"), model_configs=[_config(first)],
                                             usage_tracking=False)
    assert [m.model_definition.model_name for m in endpoint.model_mappings] == ["gpt-4"]
    assert endpoint.model_mappings[0].model_definition.secret_name == secret.secret_name

    mapping = store.attach_model_to_endpoint(endpoint_id=endpoint.endpoint_id,
                                             model_config=_config(second, FALLBACK))
    assert (mapping.endpoint_id, mapping.model_definition_id) == (endpoint.endpoint_id, second.model_definition_id)
    fetched = store.get_gateway_endpoint(endpoint.endpoint_id)
    assert {m.mapping_id for m in fetched.model_mappings} >= {mapping.mapping_id}
    assert sorted(m.linkage_type.value for m in fetched.model_mappings) == ["FALLBACK", "PRIMARY"]

    # INVALID_STATE is a 500 (which the client retries), so the answer is read as it is sent
    in_use = requests.delete(any_client.tracking_uri + GATEWAY + "/model-definitions/delete", timeout=30,
                             json={"model_definition_id": second.model_definition_id})
    assert (in_use.status_code, in_use.json()["error_code"]) == (500, "INVALID_STATE")
    assert "Cannot delete model definition that is currently in use by endpoints" in in_use.json()["message"]
    store.detach_model_from_endpoint(endpoint_id=endpoint.endpoint_id, model_definition_id=second.model_definition_id)
    assert len(store.get_gateway_endpoint(endpoint.endpoint_id).model_mappings) == 1

    renamed = store.update_gateway_endpoint(endpoint_id=endpoint.endpoint_id, name=_unique("renamed"))
    assert renamed.name != endpoint.name and renamed.endpoint_id == endpoint.endpoint_id
    assert endpoint.endpoint_id in {e.endpoint_id for e in store.list_gateway_endpoints()}

    job = _unique("job")
    binding = store.create_endpoint_binding(endpoint_id=endpoint.endpoint_id,
                                            resource_type=GatewayResourceType.SCORER, resource_id=job)
    assert (binding.endpoint_id, binding.resource_type, binding.resource_id) == (
        endpoint.endpoint_id, GatewayResourceType.SCORER, job)
    assert [b.resource_id for b in store.list_endpoint_bindings(resource_id=job)] == [job]
    store.delete_endpoint_binding(endpoint_id=endpoint.endpoint_id,
                                  resource_type=GatewayResourceType.SCORER.value, resource_id=job)
    assert store.list_endpoint_bindings(resource_id=job) == []

    store.delete_gateway_endpoint(endpoint.endpoint_id)
    assert endpoint.endpoint_id not in {e.endpoint_id for e in store.list_gateway_endpoints()}
    store.delete_gateway_model_definition(second.model_definition_id)


def test_deleting_a_secret_orphans_its_model_definitions(any_client):
    store = _store(any_client)
    secret = store.create_gateway_secret(secret_name=_unique("key"), secret_value={"api_key": "sk-orphan-test"})
    definition = store.create_gateway_model_definition(name=_unique("def"), secret_id=secret.secret_id,
                                                       provider="openai", model_name="gpt-4")
    endpoint = store.create_gateway_endpoint(name=_unique("orphan"), model_configs=[_config(definition)],
                                             usage_tracking=False)
    store.delete_gateway_secret(secret.secret_id)
    orphan = store.get_gateway_endpoint(endpoint.endpoint_id).model_mappings[0].model_definition
    assert (orphan.secret_id, orphan.secret_name) == (None, None)


@pytest.mark.parametrize("path,payload,message", [
    ("/secrets/create", {"secret_value": {"api_key": "k"}}, "Missing value for required parameter 'secret_name'."),
    ("/secrets/create", {"secret_name": "x", "secret_value": {"api_base": "https://example.com"}},
     "secret_value must not contain 'api_base'"),
    ("/secrets/create", {"secret_name": "x", "secret_value": {"api_key": "k"}, "auth_config": {"base_url": "y"}},
     "auth_config must not contain 'base_url'"),
    ("/endpoints/create", {"name": "bad name!", "model_configs": [{"model_definition_id": "d-1",
                                                                   "linkage_type": "PRIMARY"}]},
     "Invalid endpoint name 'bad name!'. Name can only contain letters, numbers, underscores, hyphens, and dots."),
])
def test_validation(side_by_side, path, payload, message):
    response = requests.post(side_by_side.url + GATEWAY + path, json=payload, timeout=30)
    assert response.status_code == 400, response.text[:300]
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in response.json()["message"]


# ---------------------------------------------------------------- mltracker's own

def test_secret_values_are_sealed_at_rest(client, mltracker):
    value = "sk-" + uuid.uuid4().hex
    secret = _store(client).create_gateway_secret(secret_name=_unique("sealed"), secret_value={"api_key": value})
    engine = create_engine(mltracker.backend_store_uri)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT sealed_value, masked_values FROM gateway_secrets WHERE id = :id"),
                               {"id": secret.secret_id}).one()
    finally:
        engine.dispose()
    assert value not in row.sealed_value and value not in row.masked_values
    assert value[-4:] in row.masked_values


def test_gateway_configuration_belongs_to_its_project(mltracker):
    project = MlflowClient(f"{mltracker.url}/projects/{uuid.uuid4().int % 10**6 + 1000}")
    root = MlflowClient(mltracker.url)
    secret = _store(project).create_gateway_secret(secret_name=_unique("key"), secret_value={"api_key": "sk-proj-1234"})
    definition = _store(project).create_gateway_model_definition(name=_unique("def"), secret_id=secret.secret_id,
                                                                 provider="openai", model_name="gpt-4")
    assert secret.secret_id not in {s.secret_id for s in _store(root).list_secret_infos()}
    with pytest.raises(MlflowException, match="not found"):
        _store(root).get_secret_info(secret.secret_id)
    with pytest.raises(MlflowException, match="GatewaySecret not found"):
        _store(root).create_gateway_model_definition(name=_unique("def"), secret_id=secret.secret_id,
                                                     provider="openai", model_name="gpt-4")
    with pytest.raises(MlflowException, match="Model definitions not found"):
        _store(root).create_gateway_endpoint(name=_unique("e"), model_configs=[_config(definition)])


def test_secrets_config(mltracker):
    """No publicly known passphrase seals anything here (MLflow's UI warns when one does)."""
    response = requests.get(mltracker.url + GATEWAY + "/secrets/config", timeout=30)
    assert response.json() == {"secrets_available": True, "using_default_passphrase": False}


# ---------------------------------------------------------------- gateway-proxy (MLflow's UI)

PROXY = "/ajax-api/2.0/mlflow/gateway-proxy"


def test_gateway_proxy_without_a_deployments_server(side_by_side):
    assert requests.get(side_by_side.url + PROXY, params={"gateway_path": "api/2.0/endpoints"},
                        timeout=30).json() == {"endpoints": []}


@pytest.fixture(scope="module")
def proxied_mltracker(tmp_path_factory):
    from tests.conftest import run_mltracker
    from tests.mlflow_compat.webhook_receiver import Receiver

    tmp = tmp_path_factory.mktemp("gateway-proxy")
    with Receiver() as deployments, run_mltracker(tmp, f"sqlite:///{tmp}/m.db", str(tmp / "artifacts"),
                                                  extra_env={"MLFLOW_DEPLOYMENTS_TARGET": deployments.url}) as server:
        yield server, deployments


@pytest.mark.parametrize("method,gateway_path", [("POST", None), ("POST", "foo/bar"), ("POST", "foo/bar/baz"),
                                                 ("GET", "hello/world")])
def test_gateway_proxy_refuses_other_paths(proxied_mltracker, method, gateway_path):
    server, _ = proxied_mltracker
    args = {} if gateway_path is None else {"gateway_path": gateway_path}
    response = requests.request(method, server.url + PROXY, timeout=30,
                                **({"params": args} if method == "GET" else {"json": args}))
    assert response.status_code == 400
    expected = ("Deployments proxy request must specify a gateway_path." if gateway_path is None
                else f"Invalid gateway_path: {gateway_path} for method: {method}")
    assert (response.json()["error_code"], response.json()["message"]) == ("INVALID_PARAMETER_VALUE", expected)
    assert requests.delete(server.url + PROXY, timeout=30).status_code == 405


def test_gateway_proxy_forwards_an_invocation(proxied_mltracker):
    server, deployments = proxied_mltracker
    question = {"messages": [{"role": "user", "content": _unique("hello")}]}
    response = requests.post(server.url + PROXY, timeout=60,
                             json={"gateway_path": "gateway/chat/invocations", "json_data": question})
    assert response.status_code == 200, response.text[:300]
    assert response.json() == {"received": "/gateway/chat/invocations", "status": 200}
    (forwarded,) = deployments.wait_for("/gateway/chat/invocations", 1)
    assert forwarded.payload == question
