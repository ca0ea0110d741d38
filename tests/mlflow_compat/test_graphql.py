"""/graphql as MLflow's web UI uses it: the queries the installed UI bundle sends (read from its
JavaScript, with the `__typename` fields Apollo adds) are asked of `mlflow server` and of mltracker
over the same data logged through the stock client, and the answers compared."""
from __future__ import annotations

import math
import re
import uuid
from pathlib import Path

import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

from tests.e2e.helpers import tracking_uri_env

pytestmark = pytest.mark.e2e


def ui_queries() -> dict[str, str]:
    """Operation name → query text, as written in the installed MLflow UI's JavaScript."""
    import mlflow

    js = Path(mlflow.__file__).parent / "server" / "js" / "build" / "static" / "js"
    found = {}
    for path in js.glob("*.js"):
        for match in re.finditer(r"`(\s*query (\w+)[^`]*)`", path.read_text(encoding="utf-8", errors="replace")):
            found[match.group(2)] = match.group(1)
    return found


QUERIES = ui_queries()
START_MS = 1_760_000_000_000
UI_OPERATIONS = ["MlflowGetExperimentQuery", "GetRun", "SearchRuns", "GetMetricHistoryBulkInterval"]


def with_typename(query: str) -> str:
    """What Apollo's cache sends: `__typename` in every selection set below the operation's."""
    first = query.index("{")
    return query[:first + 1] + re.sub(r"\{", "{ __typename", query[first + 1:])


class Logged:
    """The same experiment, runs and model version logged to one server."""

    def __init__(self, url: str):
        self.url = url
        client = MlflowClient(url)
        with tracking_uri_env(url):
            self.experiment_id = client.create_experiment(f"gql-{uuid.uuid4().hex[:8]}", tags={"team": "churn"})
            self.runs = {}
            start = START_MS
            for i, name in enumerate(("first", "second")):
                run = client.create_run(self.experiment_id, run_name=name, start_time=start + i * 1000,
                                        tags={"kind": "gql"})
                run_id = run.info.run_id
                metrics = [Metric("loss", 1.0 / (s + 1 + i), 1_000 + s, s) for s in range(30)]
                metrics.append(Metric("odd", math.nan if i == 0 else 2.5, 5_000, 0))
                client.log_batch(run_id, metrics=metrics, params=[Param("lr", str(0.1 * (i + 1)))],
                                 tags=[RunTag("stage", name)])
                client.log_inputs(run_id, [DatasetInput(Dataset("train", f"d{i}", "local", "/data/x"),
                                                        [InputTag("mlflow.data.context", "training")])])
                client.set_terminated(run_id, end_time=start + i * 1000 + 500)
                self.runs[name] = run_id
            model = f"gql-model-{uuid.uuid4().hex[:6]}"
            client.create_registered_model(model)
            client.create_model_version(model, f"runs:/{self.runs['first']}/model", run_id=self.runs["first"])
        self.names = {run_id: name for name, run_id in self.runs.items()}

    def ask(self, query: str, variables: dict, path: str = "/graphql") -> requests.Response:
        return requests.post(self.url + path, json={"query": query, "variables": variables}, timeout=60)

    def normalized(self, answer):
        """Ids replaced by logical names; what differs by server (locations, clock times, model
        names) replaced by placeholders; key/value lists in key order."""
        if isinstance(answer, dict):
            out = {}
            for key, value in answer.items():
                if key in ("artifactUri", "artifactLocation", "source", "creationTime", "lastUpdateTime",
                           "creationTimestamp", "userId"):
                    out[key] = "<server>" if value is not None else None
                elif key == "name" and isinstance(value, str) and value.startswith(("gql-", "gql-model-")):
                    out[key] = "<name>"
                elif key == "experimentId" and value == self.experiment_id:
                    out[key] = "<experiment>"
                else:
                    out[key] = self.normalized(value)
            return out
        if isinstance(answer, list):
            items = [self.normalized(v) for v in answer]
            if items and all(isinstance(i, dict) and "key" in i for i in items):
                items.sort(key=lambda i: (str(i["key"]), str(i.get("step")), str(i.get("runId"))))
            return items
        if isinstance(answer, str) and answer in self.names:
            return self.names[answer]
        return answer


@pytest.fixture(scope="module")
def reference(mlflow_server) -> Logged:
    return Logged(mlflow_server.url)


@pytest.fixture
def candidate(mltracker, request) -> Logged:
    cache = request.config.cache_graphql = getattr(request.config, "cache_graphql", {})
    if mltracker.url not in cache:
        cache[mltracker.url] = Logged(mltracker.url)
    return cache[mltracker.url]


def test_the_ui_bundle_sends_the_queries_this_test_covers():
    assert set(UI_OPERATIONS) <= set(QUERIES), sorted(QUERIES)


def _variables(operation: str, logged: Logged) -> dict:
    return {
        "MlflowGetExperimentQuery": {"input": {"experimentId": logged.experiment_id}},
        "GetRun": {"data": {"runId": logged.runs["first"]}},
        # (not runViewType: mlflow server 3.17 fails on it — "Failed to parse run_view_type field")
        "SearchRuns": {"data": {"experimentIds": [logged.experiment_id], "filter": "", "maxResults": 100,
                                "orderBy": ["attributes.start_time DESC"]}},
        # (no maxResults: mlflow server ignores it here, see test_bulk_interval_honours_max_results)
        "GetMetricHistoryBulkInterval": {"data": {"runIds": [logged.runs["first"], logged.runs["second"]],
                                                  "metricKey": "loss"}},
    }[operation]


@pytest.mark.parametrize("typename", [False, True], ids=["as-written", "with-typename"])
@pytest.mark.parametrize("operation", UI_OPERATIONS)
def test_the_ui_queries_answer_as_mlflow_server(reference, candidate, operation, typename):
    query = with_typename(QUERIES[operation]) if typename else QUERIES[operation]
    answers = []
    for logged in (reference, candidate):
        response = logged.ask(query, _variables(operation, logged))
        assert response.status_code == 200, response.text[:300]
        answers.append(logged.normalized(response.json()))
    assert answers[1] == answers[0]
    assert answers[0]["errors"] is None and answers[0]["data"]


NAN_AND_MISSING = """
query Odd($run: MlflowGetRunInput!, $bulk: MlflowGetMetricHistoryBulkIntervalInput!, $gone: MlflowGetRunInput!) {
  odd: mlflowGetRun(input: $run) { run { data { metrics { key value } } } }
  bulk: mlflowGetMetricHistoryBulkInterval(input: $bulk) { metrics { key value step } }
  gone: mlflowGetRun(input: $gone) { run { info { runName } } }
}"""


def test_nan_values_and_a_missing_run(reference, candidate):
    answers = []
    for logged in (reference, candidate):
        variables = {"run": {"runId": logged.runs["first"]}, "gone": {"runId": "f" * 32},
                     "bulk": {"runIds": [logged.runs["first"]], "metricKey": "odd"}}
        response = logged.ask(NAN_AND_MISSING, variables)
        assert response.status_code == 200, response.text[:300]
        answers.append(logged.normalized(response.json()))
    assert answers[1] == answers[0]
    assert answers[0]["data"]["gone"] is None and len(answers[0]["errors"]) == 2


INLINE = '{ mlflowGetExperiment(input: {experimentId: "%s"}) { experiment { name tags { key value } } } }'
REFUSED = [
    "{ mlflowGetExperiment(input: {experimentId: \"0\"}) { experiment { nope } } }",
    "{ nope { x } }",
    "{ mlflowGetRun(input: {runId: \"a\"}) { run } }",
    "{ mlflowGetRun(input: {runId: \"a\"}) { run { info { runName { x } } } } }",
    "{ " + " ".join(f"f{i}: test(inputString: \"x\") {{ output }}" for i in range(11)) + " }",
    "{ mlflowGetRun(input: {runId: \"a\"}) { run { info { runName } } } } "
    + "".join("{" for _ in range(0)),
    "query { test(inputString: \"x\") { " + "output " * 1001 + "} }",
    "{ a: test(inputString: \"1\") { output } b: test(inputString: \"2\") { output } c: test(inputString: \"3\") "
    "{ output } d: test(inputString: \"4\") { output } e: test(inputString: \"5\") { output } f: test("
    "inputString: \"6\") { output } g: test(inputString: \"7\") { output } h: test(inputString: \"8\") "
    "{ output } i: test(inputString: \"9\") { output } j: test(inputString: \"10\") { output } k: test("
    "inputString: \"11\") { output } }",
]


def test_inline_arguments_and_echo(reference, candidate):
    answers = []
    for logged in (reference, candidate):
        response = logged.ask(INLINE % logged.experiment_id, {})
        echo = logged.ask('mutation { testMutation(inputString: "hi") { output } }', {})
        answers.append((logged.normalized(response.json()), echo.json()))
    assert answers[1] == answers[0]


@pytest.mark.parametrize("query", REFUSED, ids=["unknown-field", "unknown-root", "no-subfields",
                                                "subfields-on-scalar", "root-fields", "plain",
                                                "selections", "aliases"])
def test_refused_queries_answer_as_mlflow_server(reference, candidate, query):
    answers = []
    for logged in (reference, candidate):
        response = logged.ask(query, {})
        assert response.status_code == 200, response.text[:300]
        answers.append(logged.normalized(response.json()))
    assert answers[1] == answers[0]


def test_depth_limit(side_by_side):
    deep = "{ mlflowGetRun(input: {runId: \"a\"}) " + "{ run " * 10 + "{ x }" + " }" * 10 + " }"
    response = requests.post(side_by_side.url + "/graphql", json={"query": deep}, timeout=30)
    assert response.status_code == 200
    assert response.json() == {"data": None, "errors": ["Query exceeds maximum depth of 10"]}


@pytest.mark.parametrize("body", [{"query": "{ mlflowGetRun(input: "}, {"query": "{ " * 5000},
                                  {"query": "query { test }" + "x" * 200_000}, {}])
def test_what_is_not_graphql_is_refused_with_an_mlflow_error(mltracker, body):
    """Not MLflow's behaviour (its server answers these with an HTML 500): a 400 naming the problem."""
    response = requests.post(mltracker.url + "/graphql", json=body, timeout=30)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_get_with_query_parameters(mltracker):
    query = 'query Echo($s: String) { test(inputString: $s) { output } }'
    response = requests.get(mltracker.url + "/graphql", params={"query": query, "variables": '{"s": "hey"}'},
                            timeout=30)
    assert response.json() == {"data": {"test": {"output": "hey"}}, "errors": None}


def test_bulk_interval_honours_max_results_and_steps(mltracker):
    """A documented difference: mlflow server 3.17 reads maxResults, startStep and endStep of this
    query from the URL's query string, so through GraphQL it ignores them and answers up to 2,500
    points per run; mltracker samples as the UI asks, exactly as the REST endpoint does."""
    logged = Logged(mltracker.url)
    query = QUERIES["GetMetricHistoryBulkInterval"]
    for extra in ({"maxResults": 7}, {"maxResults": 5, "startStep": 10, "endStep": 20}):
        data = {"runIds": [logged.runs["first"], logged.runs["second"]], "metricKey": "loss", **extra}
        answer = logged.ask(query, {"data": data}).json()
        assert answer["errors"] is None
        points = sorted((m["runId"], int(m["step"])) for m in answer["data"]["mlflowGetMetricHistoryBulkInterval"]["metrics"])
        params = [("run_ids", r) for r in data["runIds"]] + [("metric_key", "loss")]
        params += [("max_results", extra["maxResults"])]
        if "startStep" in extra:
            params += [("start_step", extra["startStep"]), ("end_step", extra["endStep"])]
        rest = requests.get(mltracker.url + "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
                            params=params, timeout=30).json()["metrics"]
        assert points == sorted((m["run_id"], m["step"]) for m in rest)
        assert len(points) < 60 and all(extra.get("startStep", 0) <= step <= extra.get("endStep", 29)
                                        for _, step in points)
