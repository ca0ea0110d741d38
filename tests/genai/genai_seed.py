"""What the trace page tests log through the stock client: an `mlflow.genai.evaluate` run with a
custom scorer (one example fails it) and a traced function with nested spans."""
from __future__ import annotations

from dataclasses import dataclass

ANSWERS = {"What is 2+2?": "4", "Capital of France?": "Paris"}
RECORDS = [
    {"inputs": {"question": "What is 2+2?"}, "expectations": {"expected_response": "4"}},
    {"inputs": {"question": "Capital of France?"}, "expectations": {"expected_response": "Paris"}},
    {"inputs": {"question": "Colour of the sky?"}, "expectations": {"expected_response": "blue"}},
]


def answer(question: str) -> str:
    return ANSWERS.get(question, "no idea")


def exact_match(outputs, expectations) -> bool:
    return outputs == expectations["expected_response"]


@dataclass(frozen=True)
class Seeded:
    experiment_id: str
    run_id: str
    nested_trace_id: str


def seed_genai(tracking_uri: str, experiment_name: str) -> Seeded:
    import mlflow
    from mlflow.genai.scorers import scorer

    from tests.e2e.helpers import tracking_uri_env

    with tracking_uri_env(tracking_uri):
        experiment = mlflow.set_experiment(experiment_name)
        result = mlflow.genai.evaluate(data=RECORDS, predict_fn=answer, scorers=[scorer(exact_match)])

        @mlflow.trace(name="retrieve", span_type="RETRIEVER")
        def retrieve(query: str) -> list[str]:
            return [f"doc about {query}"]

        @mlflow.trace(name="pipeline", span_type="CHAIN")
        def pipeline(query: str) -> str:
            docs = retrieve(query)
            with mlflow.start_span(name="generate", span_type="LLM") as span:
                span.set_inputs({"prompt": f"Answer with {docs[0]}"})
                span.set_outputs({"text": "<b>forty-two</b>"})
            return "forty-two"

        pipeline("the answer")
        nested = mlflow.get_last_active_trace_id()
        mlflow.flush_trace_async_logging()
        mlflow.set_experiment(experiment_name="Default")
    return Seeded(experiment.experiment_id, result.run_id, nested)
