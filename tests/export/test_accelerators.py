"""deepedge.export.accelerators: XNNPACK, GPU, TFLite Micro and Edge TPU coverage of exported models."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from deepedge.export.accelerators import (EDGETPU_SOURCE, accelerator_report, edgetpu_report, micro_report,
                                          parse_analyzer, xnnpack_report)
from deepedge.presets import saved_models_dir

EDGENET, KWS = (saved_models_dir() / name for name in ("fashion_edgenet", "kws_dscnn"))


def _images(count, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, (1, 28, 28, 1)).astype(np.int8) for _ in range(count)]


def test_xnnpack_coverage_of_the_edge_net_is_measured():
    report = xnnpack_report(EDGENET)
    # Measured with ai-edge-litert 2.3.0: XNNPACK takes every op, the int8 SOFTMAX rewritten as
    # DEQUANTIZE, float SOFTMAX, QUANTIZE (deepedge.export.rewrite; it left the original on the CPU).
    assert (report["ops"], report["delegated"], report["cpu_ops"]) == (16, 16, {})
    assert report["fraction"] == 1.0
    assert report["delegated_ops"]["CONV_2D"] == 6


def test_every_shipped_model_runs_wholly_on_xnnpack():
    import json

    recorded = {path.parent.name: json.loads(path.read_text())["accelerators"]["xnnpack"]
                for path in sorted(saved_models_dir().glob("*/model.json"))}
    assert len(recorded) >= 18
    assert {name: x["cpu_ops"] for name, x in recorded.items() if x["cpu_ops"]} == {}
    assert all(x["delegated"] == x["ops"] for x in recorded.values())
    # measured again on a translator: its encoders read what the runtime computes from the ids
    # (deepedge.ops.sources) instead of integer length arithmetic and GATHERs
    report = xnnpack_report(saved_models_dir() / "de_en_attention")
    assert report["cpu_ops"] == {} and report["fraction"] == 1.0
    assert set(report["subgraphs"]) == {"decode_step", "encode", "encode_16"}


@pytest.fixture(scope="module")
def rfft_front_end():
    """A float front end computed with LiteRT's RFFT2D (`dft="rfft"`), as the spotter shipped before."""
    from deepedge.apps.speech import LogMelSpectrogram
    from deepedge.backend import keras
    from deepedge.export.convert import convert

    inputs = keras.Input((4000,), batch_size=1)
    return convert(keras.Model(inputs, LogMelSpectrogram(dft="rfft")(inputs)), "float32")


def test_xnnpack_takes_the_spotters_factored_fourier_transform():
    report = xnnpack_report(KWS)
    assert report["cpu_ops"] == {}  # every op of the float front end is delegated, and the softmax rewritten


def test_xnnpack_leaves_an_rfft_on_the_cpu(rfft_front_end):
    report = xnnpack_report(rfft_front_end)
    assert {"RFFT2D", "REAL", "IMAG"} <= set(report["cpu_ops"])
    assert report["subgraphs"]["main"]["partitions"] >= 2  # the FFT splits the graph


def test_micro_runs_the_edge_net_in_its_measured_arena_and_matches_litert():
    report = micro_report(EDGENET, test_inputs=_images(3))
    assert report["loads"] and report["unsupported_ops"] == []
    assert abs(report["arena_bytes"] - 41_808) <= 64  # measured: 41,808 B (41,568 before the float softmax)
    assert report["arena_bytes"] >= report["recorded_arena_bytes"]
    # TFLM's reference kernels round a little differently from XNNPACK's: a few int8 steps at most.
    assert report["parity"]["examples"] == 3 and report["parity"]["max_abs_diff"] <= 8


def test_micro_finds_the_smallest_arena_past_a_size_that_crashes_tflm():
    """The cart-pole Q-network: TFLM crashes (SIGSEGV) at 5,120 bytes instead of failing cleanly.
    The search tries sizes in one child, starts another after the crash, and finds 5,136 bytes,
    the size a fresh process runs with where 16 bytes less does not."""
    from deepedge.export.micro import _probe

    model = saved_models_dir() / "dqn_cartpole" / "model.tflite"
    assert _probe(model, 5_120, 1) < 0  # the crash this search has to survive
    report = micro_report(model)
    assert report["loads"] and report["arena_bytes"] == 5_136
    assert _probe(model, 5_136, 1) == 0 and _probe(model, 5_136 - 16, 1) != 0


def test_micro_rejects_test_inputs_of_the_wrong_shape():
    with pytest.raises(InvalidInputError, match=r"must have shape \[1, 28, 28, 1\] and dtype int8"):
        micro_report(EDGENET, test_inputs=[np.zeros((28, 28), np.int8)])


def test_micro_runs_the_spotter_with_its_factored_fourier_transform():
    report = micro_report(KWS)
    assert report["loads"] and report["unsupported_ops"] == []
    assert abs(report["arena_bytes"] - 620_208) <= 1024  # measured: 620,208 B


def test_micro_reports_an_rfft_as_unsupported(rfft_front_end):
    report = micro_report(rfft_front_end)
    assert report["loads"] is False and report["arena_bytes"] is None
    assert {"RFFT2D", "REAL", "IMAG"} <= set(report["unsupported_ops"])
    assert "TFLM stops at the first: RFFT2D" in report["reason"]


def test_edgetpu_takes_the_edge_net_up_to_its_float_softmax():
    # the softmax rewritten for XNNPACK runs in float: the Edge TPU leaves it to the CPU
    # (`deepedge export --keep-ops` keeps the int8 SOFTMAX it takes; tests/cli/test_export_keras.py)
    report = edgetpu_report(EDGENET)
    assert (report["edgetpu"], report["ops"], report["first_unsupported"]) == (13, 16, "op #13 DEQUANTIZE")
    assert report["source"] == EDGETPU_SOURCE and "coral.ai" in EDGETPU_SOURCE


def test_edgetpu_flags_a_per_pixel_softmax_with_its_documented_limit():
    from deepedge.backend import keras
    from deepedge.export.convert import convert

    keras.utils.set_random_seed(0)
    inputs = keras.Input((128, 128, 1), batch_size=1)
    outputs = keras.layers.Conv2D(2, 3, padding="same", activation="softmax")(inputs)  # 32,768 values
    samples = np.random.default_rng(0).standard_normal((4, 128, 128, 1)).astype(np.float32)
    report = edgetpu_report(convert(keras.Model(inputs, outputs), "int8", samples))
    last = report["graph"][-1]
    assert (last["op"], last["target"]) == ("SOFTMAX", "cpu")
    assert "16,000 elements" in last["reason"]
    assert report["edgetpu"] == report["ops"] - 1


def test_edgetpu_sends_everything_after_a_float_front_end_to_the_cpu():
    report = edgetpu_report(KWS)
    assert report["edgetpu"] == 0
    assert report["first_unsupported"] == "op #0 STRIDED_SLICE"
    assert "float32 tensors" in report["graph"][0]["reason"]
    assert report["graph"][31]["reason"].startswith("after the first unsupported op (op #0 STRIDED_SLICE)")


def test_parse_analyzer_reads_ops_and_gpu_warnings():
    text = """Subgraph#0 main(T#0) -> [T#3]
  Op#0 EXPAND_DIMS(T#0, T#1[1]) -> [T#2]
GPU COMPATIBILITY WARNING: Not supported op EXPAND_DIMS
  Op#1 ADD(T#2, T#2) -> [T#3]
Subgraph#1 other(T#0) -> [T#1]
  Op#0 CAST(T#0) -> [T#1]
GPU COMPATIBILITY WARNING: Not supported Cast case. Input type: INT32 and output type: FLOAT32
"""
    ops, rejected = parse_analyzer(text)
    assert ops == [(0, 0, "EXPAND_DIMS"), (0, 1, "ADD"), (1, 0, "CAST")]
    assert rejected == [{"subgraph": 0, "index": 0, "op": "EXPAND_DIMS", "reason": "Not supported op EXPAND_DIMS"},
                        {"subgraph": 1, "index": 0, "op": "CAST",
                         "reason": "Not supported Cast case. Input type: INT32 and output type: FLOAT32"}]


def test_accelerator_report_is_plain_json():
    import json

    report = accelerator_report(EDGENET)
    assert set(report) == {"xnnpack", "gpu", "micro", "edgetpu"}
    assert report["gpu"]["verified"] is False and "77042" in report["gpu"]["note"]
    assert json.loads(json.dumps(report)) == report


@pytest.mark.slow
def test_a_planted_tile_op_is_flagged_for_micro_and_the_edge_tpu():
    """TILE has no TFLite Micro kernel and is not in the Edge TPU's table: both reports must say so,
    and the Edge TPU must keep the convolution before it and give up every op after it."""
    from deepedge.backend import keras
    from deepedge.export.convert import convert

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1), batch_size=1)
    features = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    tiled = keras.layers.Lambda(lambda x: keras.ops.tile(x, (1, 1, 1, 2)))(features)
    outputs = keras.layers.Dense(3)(keras.layers.Flatten()(tiled))
    samples = np.random.default_rng(0).standard_normal((20, 8, 8, 1)).astype(np.float32)
    flatbuffer = convert(keras.Model(inputs, outputs), "int8", samples)

    micro = micro_report(flatbuffer)
    assert micro["loads"] is False and "TILE" in micro["unsupported_ops"] and "TILE" in micro["reason"]
    tpu = edgetpu_report(flatbuffer)
    names = [row["op"] for row in tpu["graph"]]
    tile = names.index("TILE")
    assert tpu["first_unsupported"] == f"op #{tile} TILE"
    assert "TILE is not in the Edge TPU's supported-op table" in tpu["graph"][tile]["reason"]
    assert all(row["target"] == "cpu" for row in tpu["graph"][tile:])
    assert "CONV_2D" in tpu["edgetpu_ops"]
