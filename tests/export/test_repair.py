"""deepedge.export.repair and .selective: the metric-driven search for the ops to keep in float32
(`deepedge export --repair`), on a scripted quantizer and on the trained digits classifier."""

import json

import numpy as np
import pytest

from deepedge.edge import load
from deepedge.export.repair import format_repair_table, repair, subset


class ScriptedQuantizer:
    """Stands in for `SelectiveQuantizer`: each group of tensors costs or repairs a known amount."""

    model = None

    def __init__(self, groups, loss_fixed, extra_bytes, errors=None):
        self._groups, self.loss_fixed, self.extra_bytes = groups, loss_fixed, extra_bytes
        self.errors = errors or {}

    def groups(self):
        return self._groups

    def op_errors(self):
        return [{"op": op, "tensor": t, "rmse_steps": self.errors.get(t, 0.3), "scale": 0.1}
                for op, tensors in self._groups.items() for t in tensors]

    def quantize(self, float_nodes=()):
        ops = {op for op, tensors in self._groups.items() if set(tensors) <= set(float_nodes)}
        return b"x" * (1000 + sum(self.extra_bytes[op] for op in ops)) + ",".join(sorted(ops)).encode()


def metric_of(quantizer, reference=90.0, plain_loss=3.0):
    def measure(flatbuffer):
        ops = [op for op in flatbuffer.decode().lstrip("x").split(",") if op]
        return reference - plain_loss + sum(quantizer.loss_fixed[op] for op in ops)
    return measure


def test_repair_keeps_the_group_that_recovers_most_first_and_stops_at_the_threshold():
    q = ScriptedQuantizer({"ADD": ["a1", "a2"], "CONCATENATION": ["c1"], "TANH": ["t1"]},
                          loss_fixed={"ADD": 0.1, "CONCATENATION": 2.0, "TANH": 0.5},
                          extra_bytes={"ADD": 10, "CONCATENATION": 5, "TANH": 5}, errors={"a1": 11.0})
    result = repair(q, metric_of(q), reference=90.0, threshold=0.6)
    assert result["kept"] == ["CONCATENATION", "TANH"] and result["float_nodes"] == ["c1", "t1"]
    assert result["drop_before"] == pytest.approx(3.0) and result["drop_after"] == pytest.approx(0.5)
    # The table ranks each group alone by the loss left, not by the debugger's per-op error.
    assert [row["op"] for row in result["table"]] == ["CONCATENATION", "TANH", "ADD"]
    assert result["table"][-1]["max_rmse_steps"] == 11.0
    lines = format_repair_table(result)
    assert "CONCATENATION, TANH kept in float32" in lines[0] and len(lines) == 4 + 3


def test_repair_refuses_groups_that_grow_the_model_too_much_and_stops_when_nothing_helps():
    q = ScriptedQuantizer({"FULLY_CONNECTED": ["f"], "RESHAPE": ["r"]},
                          loss_fixed={"FULLY_CONNECTED": 3.0, "RESHAPE": 0.0},
                          extra_bytes={"FULLY_CONNECTED": 3000, "RESHAPE": 1})
    result = repair(q, metric_of(q), reference=90.0, threshold=0.5, max_growth=0.10)
    assert result["kept"] == [] and result["drop_after"] == pytest.approx(3.0)
    table = {row["op"]: row for row in result["table"]}
    assert table["FULLY_CONNECTED"]["drop"] is None  # too large: never measured
    assert "too large" in "\n".join(format_repair_table(result))
    grown = repair(q, metric_of(q), reference=90.0, threshold=0.5, max_growth=5.0)
    assert grown["kept"] == ["FULLY_CONNECTED"] and grown["drop_after"] == pytest.approx(0.0)


def test_repair_scales_its_goal_when_the_repair_data_shows_a_smaller_loss():
    q = ScriptedQuantizer({"CONCATENATION": ["c"], "TANH": ["t"]}, loss_fixed={"CONCATENATION": 1.0, "TANH": 0.9},
                          extra_bytes={"CONCATENATION": 0, "TANH": 0})
    # The held-out loss (6) is three times the repair data's (2): the goal there shrinks by as much.
    plain = repair(q, metric_of(q, plain_loss=2.0), reference=90.0, threshold=2.5)
    assert plain["kept"] == []  # within the threshold already on the repair data
    scaled = repair(q, metric_of(q, plain_loss=2.0), reference=90.0, threshold=2.5, evaluation_drop=6.0)
    assert scaled["goal"] == pytest.approx(2.5 * 2.0 / 6.0, abs=1e-4) and scaled["kept"] == ["CONCATENATION", "TANH"]


def test_lower_is_better_metrics_count_a_rise_as_the_loss():
    q = ScriptedQuantizer({"CONCATENATION": ["c"]}, loss_fixed={"CONCATENATION": -1.0},
                          extra_bytes={"CONCATENATION": 0})
    result = repair(q, metric_of(q, reference=20.0, plain_loss=-1.0), reference=20.0, threshold=0.5,
                    higher_is_better=False)  # CER 21 plain, 20 with the concatenation in float
    assert result["drop_before"] == pytest.approx(1.0) and result["kept"] == ["CONCATENATION"]


def test_subset_takes_the_first_examples_of_data_sets_pairs_and_arrays(digits):
    assert len(subset(digits["train"], 5).images) == 5
    x, y = subset((np.zeros((9, 2)), np.arange(9)), 4)
    assert x.shape == (4, 2) and list(y) == [0, 1, 2, 3]
    assert subset(np.arange(300), 200).shape == (200,)  # an array's own `take` picks elements: not used


@pytest.mark.slow
def test_repair_through_the_exporter_records_its_table_and_ships_a_builtin_model(trained_digits_classifier,
                                                                                 digits, tmp_path):
    # A threshold no int8 model can meet (5 points better than float) makes the repair search run
    # to its end; `force` writes what it found.
    meta = trained_digits_classifier.export(tmp_path, calibration_data=digits["train"], evaluation_data=digits["test"],
                                            max_drop=-5.0, repair=True, max_growth=4.0, force=True,
                                            latency_runs=20, card={"data": {"name": "digits"}})
    result = meta["repair"]
    assert result["examples"] == 200 and result["table"] and result["size_after"] <= 5 * result["size_before"]
    assert {"op", "tensors", "layers", "max_rmse_steps", "size_bytes", "drop"} <= set(result["table"][0])
    assert all(row["drop"] is None or row["drop"] >= result["drop_after"] - 1e-6 for row in result["table"])
    recorded = json.loads((tmp_path / "model.json").read_text())
    assert recorded["repair"]["kept"] == result["kept"]
    # the shipped file is the repaired one plus the XNNPACK rewrite's few ops (deepedge.export.rewrite)
    assert 0 <= recorded["size_bytes"] - result["size_after"] <= 2048 and recorded["xnnpack_rewrites"]
    assert all(not op.startswith("Flex") and op != "CUSTOM" for op in recorded["ops"])
    if result["kept"]:
        assert "DEQUANTIZE" in recorded["ops"]  # a float island inside the int8 model
    assert load(tmp_path).evaluate_metric(digits["test"]) == pytest.approx(meta["metrics"]["litert_int8"], abs=1e-3)
    assert "## Selective precision" in (tmp_path / "card.md").read_text()
