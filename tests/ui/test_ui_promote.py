"""Promote from the UI makes only versions that load: the form says what it registers, a candidate
without a model is refused with the reason, and a promoted logged model loads by alias and predicts."""
from __future__ import annotations

import uuid

import mlflow
import pandas as pd
import requests
from playwright.sync_api import expect

from tests.ui.clients import stock_client
from tests.ui.conftest import screenshot


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: pd.DataFrame, params=None):
        return model_input["x"] * 2


def test_a_candidate_without_a_model_is_refused_with_the_reason(page, local_server):
    seeded = local_server.seeded
    bare = seeded.runs["run-010"]  # params and metrics, no model anywhere
    page.goto(f"{local_server.url}/candidates/{bare}")
    expect(page.locator("form#promote")).to_have_count(0)
    refusal = page.locator("#promote.promote-refusal")
    expect(refusal).to_contain_text("Nothing to promote")
    expect(refusal).to_contain_text("has no model to register")
    expect(refusal).to_contain_text("MLmodel")
    screenshot(page, "20-promote-refused", full_page=False)

    # A hand-made request (the form's token, another candidate's id) gets the same answer.
    page.goto(f"{local_server.url}/candidates/{seeded.artifact_run}")
    token = page.locator("form#promote input[name=csrf_token]").input_value()
    name = f"never-{uuid.uuid4().hex[:6]}"
    response = page.request.post(f"{local_server.url}/candidates/{bare}/promote",
                                 form={"csrf_token": token, "model": name, "alias": "", "source": "artifacts:"})
    assert response.ok
    assert "Could not promote" in response.text() and "has no model to register" in response.text()
    models = requests.get(f"{local_server.url}/api/2.0/mlflow/registered-models/search", timeout=10).json()
    assert name not in {m["name"] for m in models.get("registered_models", [])}


def test_a_promoted_logged_model_loads_by_alias_and_predicts(page, local_server):
    name = f"doubler-{uuid.uuid4().hex[:6]}"
    with stock_client(local_server.url):
        mlflow.set_experiment("churn-model")
        with mlflow.start_run(run_name="pyfunc-candidate") as run:
            logged = mlflow.pyfunc.log_model(name="model", python_model=Doubler())
    page.goto(f"{local_server.url}/candidates/{run.info.run_id}")
    expect(page.locator("#logged-models")).to_contain_text(logged.model_id)
    form = page.locator("form#promote")
    option = form.locator("input[name=source]")
    expect(option).to_have_count(1)
    expect(option).to_have_value(f"logged_model:{logged.model_id}")
    expect(form).to_contain_text(f"logged model 'model' ({logged.model_id})")
    form.locator("input[name=model]").fill(name)
    form.locator("input[name=alias]").fill("prod")
    screenshot(page, "21-promote-logged-model", full_page=False)
    form.get_by_role("button", name="Promote").click()
    expect(page.locator(".alert-success")).to_contain_text("version 1")
    expect(page.locator("#details")).to_contain_text(f"models:/{logged.model_id}")
    screenshot(page, "22-model-version")
    with stock_client(local_server.url):
        model = mlflow.pyfunc.load_model(f"models:/{name}@prod")
    assert list(model.predict(pd.DataFrame({"x": [1.0, 4.0]}))) == [2.0, 8.0]
