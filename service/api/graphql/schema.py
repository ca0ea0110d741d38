"""The part of MLflow's GraphQL schema (mlflow/server/graphql/) that mltracker serves: its type
names (so `__typename` answers as MLflow's does), fields and root fields, each resolved by the same
function as the matching REST endpoint, in the request's project.

A field's type is a scalar name, an object type name, or a one-item list of either."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from mltracker.service.api.request import RequestMessage

STRING, FLOAT, LONG, INT, BOOLEAN, ENUM = "String", "Float", "LongString", "Int", "Boolean", "Enum"
SCALARS = {STRING, FLOAT, LONG, INT, BOOLEAN, ENUM}

_KEY_VALUE = {"key": STRING, "value": STRING}
_MODEL_VERSION = {
    "name": STRING, "version": STRING, "creationTimestamp": LONG, "lastUpdatedTimestamp": LONG,
    "userId": STRING, "currentStage": STRING, "description": STRING, "source": STRING, "runId": STRING,
    "status": ENUM, "statusMessage": STRING, "tags": ["MlflowModelVersionTag"], "runLink": STRING,
    "aliases": [STRING], "modelId": STRING, "modelParams": ["MlflowModelParam"],
    "modelMetrics": ["MlflowModelMetric"], "deploymentJobState": "MlflowModelVersionDeploymentJobState",
}
_METRIC = {"key": STRING, "value": FLOAT, "timestamp": LONG, "step": LONG, "datasetName": STRING,
           "datasetDigest": STRING, "modelId": STRING, "runId": STRING}

TYPES: dict[str, dict] = {
    "ApiError": {"code": STRING, "message": STRING, "helpUrl": STRING, "traceId": STRING,
                 "errorDetails": ["ErrorDetail"]},
    "ErrorDetail": {"field": STRING, "message": STRING},
    "MlflowExperimentTag": _KEY_VALUE,
    "MlflowExperiment": {
        "experimentId": STRING, "name": STRING, "artifactLocation": STRING, "lifecycleStage": STRING,
        "lastUpdateTime": LONG, "creationTime": LONG, "tags": ["MlflowExperimentTag"],
        "effectiveTraceArchivalRetention": STRING, "workspace": STRING,
    },
    "MlflowGetExperimentResponse": {"experiment": "MlflowExperiment", "apiError": "ApiError"},
    "MlflowRunInfo": {
        "runId": STRING, "runUuid": STRING, "runName": STRING, "experimentId": STRING, "userId": STRING,
        "status": ENUM, "startTime": LONG, "endTime": LONG, "artifactUri": STRING, "lifecycleStage": STRING,
    },
    "MlflowMetricExtension": _METRIC,
    "MlflowParam": _KEY_VALUE,
    "MlflowRunTag": _KEY_VALUE,
    "MlflowRunData": {"metrics": ["MlflowMetricExtension"], "params": ["MlflowParam"], "tags": ["MlflowRunTag"]},
    "MlflowDataset": {"name": STRING, "digest": STRING, "sourceType": STRING, "source": STRING,
                      "schema": STRING, "profile": STRING},
    "MlflowInputTag": _KEY_VALUE,
    "MlflowDatasetInput": {"tags": ["MlflowInputTag"], "dataset": "MlflowDataset"},
    "MlflowModelInput": {"modelId": STRING},
    "MlflowRunInputs": {"datasetInputs": ["MlflowDatasetInput"], "modelInputs": ["MlflowModelInput"]},
    "MlflowModelOutput": {"modelId": STRING, "step": LONG},
    "MlflowRunOutputs": {"modelOutputs": ["MlflowModelOutput"]},
    "MlflowRunExtension": {"info": "MlflowRunInfo", "data": "MlflowRunData", "inputs": "MlflowRunInputs",
                           "outputs": "MlflowRunOutputs", "experiment": "MlflowExperiment",
                           "modelVersions": ["MlflowModelVersion"]},
    "MlflowGetRunResponse": {"run": "MlflowRunExtension", "apiError": "ApiError"},
    "MlflowSearchRunsResponse": {"runs": ["MlflowRunExtension"], "nextPageToken": STRING, "apiError": "ApiError"},
    "MlflowMetricWithRunId": {"key": STRING, "value": FLOAT, "timestamp": LONG, "step": LONG, "runId": STRING},
    "MlflowGetMetricHistoryBulkIntervalResponse": {"metrics": ["MlflowMetricWithRunId"], "apiError": "ApiError"},
    "MlflowModelVersionTag": _KEY_VALUE,
    "MlflowModelParam": {"name": STRING, "value": STRING},
    "MlflowModelMetric": _METRIC,
    "MlflowModelVersionDeploymentJobState": {"jobId": STRING, "runId": STRING, "jobState": ENUM,
                                             "runState": ENUM, "currentTaskName": STRING},
    "MlflowModelVersion": _MODEL_VERSION,
    "MlflowSearchModelVersionsResponse": {"modelVersions": ["MlflowModelVersion"], "nextPageToken": STRING,
                                          "apiError": "ApiError"},
    "MlflowFileInfo": {"path": STRING, "isDir": BOOLEAN, "fileSize": LONG},
    "MlflowListArtifactsResponse": {"rootUri": STRING, "files": ["MlflowFileInfo"], "nextPageToken": STRING,
                                    "apiError": "ApiError"},
    "MlflowDatasetSummary": {"experimentId": STRING, "name": STRING, "digest": STRING, "context": STRING},
    "MlflowSearchDatasetsResponse": {"datasetSummaries": ["MlflowDatasetSummary"], "apiError": "ApiError"},
    "Test": {"output": STRING},
    "TestMutation": {"output": STRING},
}


@dataclass(frozen=True)
class RootField:
    type: str
    input_type: str | None  # the type of the one argument, `input` (`inputString` for the echo fields)
    resolve: object  # (context, input as a snake_case dict) -> payload


@dataclass
class Context:
    """One request's execution: what resolvers share (experiments and model versions already read)."""
    experiments: dict = field(default_factory=dict)
    run_ids: list = field(default_factory=list)
    model_versions: dict | None = None


def _api(function_path: str):
    """The REST endpoint's payload function, imported when first used."""
    module_name, name = function_path.rsplit(".", 1)

    def resolve(context: Context, arguments: dict):
        import importlib

        module = importlib.import_module(f"mltracker.service.api.{module_name}")
        payload = getattr(module, name)(RequestMessage(arguments, from_query=False))
        _remember_runs(context, payload)
        return payload

    return resolve


def _remember_runs(context: Context, payload: dict) -> None:
    runs = payload.get("runs") or ([payload["run"]] if "run" in payload else [])
    context.run_ids.extend(r["info"]["run_id"] for r in runs)


def _echo(_context: Context, arguments: dict):
    return {"output": arguments.get("input_string")}


def _null(_context: Context, _arguments: dict):
    """MLflow's testMutation answers null: its resolver is named for another field (resolve_test_mutation)."""
    return None


QUERY = {
    "mlflowGetExperiment": RootField("MlflowGetExperimentResponse", "MlflowGetExperimentInput",
                                     _api("experiments.get_experiment_payload")),
    "mlflowGetMetricHistoryBulkInterval": RootField(
        "MlflowGetMetricHistoryBulkIntervalResponse", "MlflowGetMetricHistoryBulkIntervalInput",
        _api("metrics.bulk_interval_payload")),
    "mlflowGetRun": RootField("MlflowGetRunResponse", "MlflowGetRunInput", _api("runs.get_run_payload")),
    "mlflowListArtifacts": RootField("MlflowListArtifactsResponse", "MlflowListArtifactsInput",
                                     _api("artifact_list.list_artifacts_payload")),
    "mlflowSearchModelVersions": RootField("MlflowSearchModelVersionsResponse", "MlflowSearchModelVersionsInput",
                                           _api("registry.search_model_versions_payload")),
    "mlflowSearchRuns": RootField("MlflowSearchRunsResponse", "MlflowSearchRunsInput",
                                  _api("runs.search_runs_payload")),
    "test": RootField("Test", "String", _echo),
}
MUTATION = {
    "mlflowSearchDatasets": RootField("MlflowSearchDatasetsResponse", "MlflowSearchDatasetsInput",
                                      _api("experiments.search_datasets_payload")),
    "mlflowSearchRuns": QUERY["mlflowSearchRuns"],
    "testMutation": RootField("TestMutation", "String", _null),
}
ROOTS = {"query": ("Query", QUERY), "mutation": ("Mutation", MUTATION)}

# Fields resolved from something else than the parent's JSON: (type, field) -> (context, parent) -> value
_SAFE_RUN_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def _run_experiment(context: Context, run: dict):
    from mltracker.service.api.experiments import get_experiment_payload

    experiment_id = run["info"]["experiment_id"]
    if experiment_id not in context.experiments:
        message = RequestMessage({"experiment_id": experiment_id}, from_query=False)
        context.experiments[experiment_id] = get_experiment_payload(message)["experiment"]
    return context.experiments[experiment_id]


def _run_model_versions(context: Context, run: dict):
    """The model versions made from the run; read once for every run of the answer."""
    from mltracker.service.api.registry import search_model_versions_payload

    if context.model_versions is None:
        context.model_versions = {}
        ids = [i for i in dict.fromkeys(context.run_ids) if _SAFE_RUN_ID.match(i)]
        for start in range(0, len(ids), 500):
            chunk = ", ".join(f"'{i}'" for i in ids[start:start + 500])
            message = RequestMessage({"filter": f"run_id IN ({chunk})"}, from_query=False)
            for version in search_model_versions_payload(message).get("model_versions", []):
                context.model_versions.setdefault(version.get("run_id"), []).append(version)
    return context.model_versions.get(run["info"]["run_id"], [])


RESOLVERS = {
    ("MlflowRunExtension", "experiment"): _run_experiment,
    ("MlflowRunExtension", "modelVersions"): _run_model_versions,
}
# MLflow resolves most types on protobuf messages, where an unset field reads as its default ("",
# 0, an empty list or message) — not as null, as the JSON of the REST API (which leaves it out)
# might suggest. These types are not messages: an unset field there is null.
NOT_PROTO = {"ApiError", "ErrorDetail", "Test", "TestMutation"}
_SCALAR_DEFAULTS = {STRING: "", LONG: 0, FLOAT: 0.0, INT: 0, BOOLEAN: False, ENUM: None}


def proto_default(field_type):
    if isinstance(field_type, list):
        return []
    if field_type in _SCALAR_DEFAULTS:
        return _SCALAR_DEFAULTS[field_type]
    return None if field_type == "ApiError" else {}


# Float fields where NaN is answered as null without an error (MLflow's MlflowMetricExtension).
NAN_AS_NULL = {("MlflowMetricExtension", "value")}


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()

INPUTS: dict[str, dict] = {
    "MlflowGetExperimentInput": {"experimentId": STRING},
    "MlflowGetRunInput": {"runId": STRING, "runUuid": STRING},
    "MlflowSearchRunsInput": {"experimentIds": [STRING], "filter": STRING, "runViewType": ENUM,
                              "maxResults": INT, "orderBy": [STRING], "pageToken": STRING},
    "MlflowGetMetricHistoryBulkIntervalInput": {"runIds": [STRING], "metricKey": STRING, "startStep": INT,
                                                "endStep": INT, "maxResults": INT},
    "MlflowListArtifactsInput": {"runId": STRING, "runUuid": STRING, "path": STRING, "pageToken": STRING},
    "MlflowSearchModelVersionsInput": {"filter": STRING, "maxResults": LONG, "orderBy": [STRING],
                                       "pageToken": STRING},
    "MlflowSearchDatasetsInput": {"experimentIds": [STRING]},
}
