"""Which way is better: configured, by experiment tag, by name (one rule for the report and the gate)."""
import pytest

from mltracker.reports import Direction
from mltracker.service.comparison.direction import infer_direction, metric_words, parse_direction, resolve_direction

MIN, MAX = Direction.MIN, Direction.MAX

NAME_CASES = [
    ("loss", MIN),
    ("val_loss", MIN),
    ("train/rmse", MIN),
    ("inference-time", MIN),
    ("eval.mae", MIN),
    ("test mse", MIN),
    ("mape", MIN),
    ("perplexity", MIN),
    ("p95_latency_ms", MIN),
    ("epoch_duration", MIN),
    ("top1_err", MIN),
    ("error_rate", MIN),
    ("valLoss", MIN),  # camelCase splits too
    ("RMSE", MIN),
    ("val_acc", MAX),
    ("accuracy", MAX),
    ("f1", MAX),
    ("auc", MAX),
    ("throughput", MAX),
    ("lossless_ratio", MAX),  # "lossless" is not the word "loss"
    ("timestamp_count", MAX),  # nor is "timestamp" the word "time"
    ("errors_fixed", MAX),  # plural "errors" is not in the list: stay with the default
    ("bloss", MAX),
    ("loss_reduction", MAX),  # a reduction of loss is a gain
    ("time_saved_s", MAX),
]


@pytest.mark.parametrize("name, expected", NAME_CASES)
def test_direction_from_name(name, expected):
    assert infer_direction(name) is expected


def test_word_boundaries():
    assert metric_words("train/val_Loss-ema.v2 x") == ["train", "val", "loss", "ema", "v2", "x"]
    assert metric_words("valLoss") == ["val", "loss"]


@pytest.mark.parametrize("tags, overrides, expected", [
    ({}, {}, MIN),
    ({"mltracker.direction.val_loss": "max"}, {}, MAX),
    ({"mltracker.direction.val_loss": " MAX "}, {}, MAX),
    ({"mltracker.direction.val_loss": "max"}, {"val_loss": "min"}, MIN),  # explicit input wins
    ({}, {"val_loss": "max"}, MAX),
    ({"mltracker.direction.val_loss": "bigger"}, {}, MIN),  # invalid tag: ignored
    ({"mltracker.direction.other": "max"}, {}, MIN),
])
def test_direction_overrides(tags, overrides, expected):
    assert resolve_direction("val_loss", tags, overrides) is expected


@pytest.mark.parametrize("text, expected", [
    ("min", MIN), ("MINIMIZE", MIN), (" lower ", MIN), ("max", MAX), ("maximize", MAX), ("higher", MAX),
    ("auto", None), ("", None), ("up", None), (None, None),
])
def test_configured_direction_words(text, expected):
    assert parse_direction(text) is expected


def test_auto_leaves_the_decision_to_the_tag_and_the_name():
    assert resolve_direction("val_acc", {}, {"val_acc": "auto"}) is MAX
    assert resolve_direction("val_acc", {"mltracker.direction.val_acc": "min"}, {"val_acc": "auto"}) is MIN
    assert resolve_direction("val_acc", {"mltracker.direction.val_acc": "min"}, {"val_acc": "maximize"}) is MAX
