"""deepedge.export.memory: flash and tensor-arena budgets, checked on shipped models and a planted tensor."""

from pathlib import Path

import pytest

from deepedge.errors import BudgetExceededError, InvalidInputError
from deepedge.export.graph import read_graph
from deepedge.export.memory import check_budget, format_bytes, memory_report, parse_size, plan_arena
from deepedge.presets import saved_models_dir

LENET = saved_models_dir() / "fashion_lenet5"


@pytest.mark.parametrize("text, expected", [("256KB", 256_000), ("1MB", 1_000_000), ("1.5 MiB", 1_572_864),
                                            ("300000", 300_000), (300_000, 300_000), ("64 kib", 65_536),
                                            ("2B", 2)])
def test_parse_size_reads_si_and_iec_units(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["12 parsecs", "", "MB", "-1KB", "0", "1,5MB"])
def test_parse_size_rejects_bad_strings_saying_what_it_expects(text):
    with pytest.raises(InvalidInputError, match=r"(Cannot read .* as a size|must be positive)"):
        parse_size(text)


def test_format_bytes():
    assert [format_bytes(n) for n in (512, 41_568, 1_583_744)] == ["512 B", "41.6 KB", "1.58 MB"]


def test_plan_arena_reuses_memory_of_tensors_that_are_no_longer_alive():
    # a -> b -> c: a and c never live at once, so c takes a's place; 100 bytes align to 128.
    assert plan_arena([(100, 0, 1), (100, 1, 2), (100, 2, 3)]) == 256
    assert plan_arena([(100, 0, 3), (100, 0, 3), (100, 0, 3)]) == 384
    assert plan_arena([]) == 0


def test_shipped_lenet_report_measures_flash_litert_and_micro_arenas():
    report = memory_report(LENET)
    assert report["flash_bytes"] == (LENET / "model.tflite").stat().st_size
    litert = report["litert"]
    largest = report["largest_activations"][0]["bytes"]
    assert largest <= litert["peak_live_bytes"] <= litert["arena_bytes"] < 64 * 1024
    assert abs(report["micro"]["arena_bytes"] - 16_960) <= 64  # measured: 16,960 B (16,352 before the rewrite)
    check_budget(report, max_ram="64KB", max_flash="100KB")  # within budget: no error


def _with_planted_activation(tmp_path, shape=(1, 512, 512, 16)):
    """LeNet-5 with its first activation's shape blown up (only the memory report reads it)."""
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray((LENET / "model.tflite").read_bytes()))
    subgraph = model.subgraphs[0]
    index = subgraph.operators[0].outputs[0]
    subgraph.tensors[index].shape = list(shape)
    subgraph.tensors[index].shapeSignature = list(shape)
    subgraph.tensors[index].name = b"planted_large_activation"
    path = Path(tmp_path) / "planted.tflite"
    path.write_bytes(bytes(flatbuffer_utils.convert_object_to_bytearray(model)))
    return path


def test_budget_check_fails_on_a_planted_large_tensor_naming_it(tmp_path):
    report = memory_report(_with_planted_activation(tmp_path), micro=False)
    assert report["largest_activations"][0]["name"] == "planted_large_activation"
    assert report["litert"]["arena_bytes"] >= 512 * 512 * 16
    with pytest.raises(BudgetExceededError) as error:
        check_budget(report, max_ram="256KB")
    message = str(error.value)
    assert message.startswith("RAM budget 256 KB exceeded: peak LiteRT tensor arena 4.")
    assert "planted_large_activation int8[1, 512, 512, 16] 4.19 MB" in message
    assert "reduce the input size" in message


def test_flash_budget_names_the_largest_constants():
    report = memory_report(LENET, micro=False)
    with pytest.raises(BudgetExceededError, match=r"Flash budget 10 KB exceeded: model file 79.1 KB .*largest "
                                                  r"constants: .*int8\[") as error:
        check_budget(report, max_flash="10KB")
    assert report["largest_constants"][0]["name"] in str(error.value)


def test_arena_counts_each_signature_of_a_step_wise_model():
    folder = saved_models_dir() / "asr_ctc"
    graph = read_graph(folder)
    report = memory_report(folder, micro=False)
    assert set(report["litert"]["subgraphs"]) == {s.name for s in graph.subgraphs}
    assert report["litert"]["arena_bytes"] == sum(s["arena_bytes"] for s in report["litert"]["subgraphs"].values())
