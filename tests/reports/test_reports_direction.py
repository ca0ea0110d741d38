"""Which way is better, by name, by experiment tag and by explicit override."""
import pytest

from mltracker.reports.direction import Direction, infer_direction, metric_words, resolve_direction

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
