import json
import os
import subprocess
import sys


import pytest

NOISE = ("oneDNN", "cuda", "tensorflow/", "absl::", "XNNPACK", "WARNING: All log messages", "I0000", "W0000")
DEEPEDGE = [sys.executable, "-m", "deepedge.cli"]


def run_cli(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "KERAS_"))}
    return subprocess.run(DEEPEDGE + [str(a) for a in args], capture_output=True, text=True, timeout=600, env=env)


def assert_quiet(result):
    for noise in NOISE:
        assert noise not in result.stderr and noise not in result.stdout, result.stderr


def test_evaluate_exported_model_json(exported_int8):
    result = run_cli("evaluate", exported_int8, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    meta = json.loads((exported_int8 / "model.json").read_text())
    assert report["metric"] == "accuracy" and report["split"] == "test" and report["data"] == "digits"
    assert report["model"] == str(exported_int8) and report["examples"] == 360
    assert report["value"] == pytest.approx(meta["metrics"]["litert_int8"], abs=1e-3)
    assert_quiet(result)


@pytest.mark.slow
def test_evaluate_keras_model_is_quiet(trained_digits_classifier, digits, tmp_path):
    path = tmp_path / "digits.keras"
    trained_digits_classifier.save(path)
    result = run_cli("evaluate", path, "--data", "digits", "--split", "validation", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "keras_float" and report["split"] == "validation" and report["examples"] == 180
    assert report["value"] == pytest.approx(trained_digits_classifier.evaluate_metric(digits["validation"]), abs=1e-3)
    assert_quiet(result)


def test_bench_and_info(exported_int8):
    result = run_cli("bench", exported_int8, "--runs", "200", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["latency_us"]["median"] > 0 and report["threads"] == 1 and report["quantization"] == "int8"
    info = run_cli("info", exported_int8)
    assert info.returncode == 0 and "DEPTHWISE_CONV_2D" in info.stdout
    assert_quiet(info)


def test_errors_are_one_clear_line_and_exit_2(tmp_path):
    result = run_cli("evaluate", tmp_path / "missing_model")
    assert result.returncode == 2
    assert "PresetNotFoundError" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "junk.tflite").write_bytes(b"junk")
    (tmp_path / "model.json").write_text("{}")
    result = run_cli("bench", tmp_path / "junk.tflite")
    assert result.returncode == 2 and "ModelFileError" in result.stderr and "Traceback" not in result.stderr


def test_help_lists_every_command():
    result = run_cli("--help")
    for command in ("train", "evaluate", "export", "bench", "info", "demo"):
        assert command in result.stdout
