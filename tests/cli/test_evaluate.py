"""`deepedge evaluate`: exported and Keras models of every family, as JSON, quietly."""

import json
import subprocess
import sys

import pytest

from deepedge.errors import InvalidInputError
from helpers import assert_quiet, run_cli


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


@pytest.mark.slow
def test_cli_evaluates_a_labeller_as_json(nuclei_export):
    from deepedge.data.scenes import NUCLEI_CLASSES

    result = subprocess.run([sys.executable, "-m", "deepedge.cli", "evaluate", str(nuclei_export[1]), "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["data"] == "nuclei" and report["metric"] == "foreground_iou" and report["split"] == "test"
    assert report["value"] == pytest.approx(nuclei_export[2]["metrics"]["litert_int8"], abs=1e-3)
    assert set(report["iou"]) == set(NUCLEI_CLASSES)


@pytest.mark.slow
def test_cli_evaluates_a_spotter_on_real_speech_as_json(exported_spotter):
    from click.testing import CliRunner

    from deepedge.cli import cli

    result = CliRunner().invoke(cli, ["evaluate", str(exported_spotter[0]), "--data", "alsa_speech", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["data"] == "alsa_speech" and report["examples"] == 17 and report["metric"] == "accuracy"
    assert {"false_accepts_unknown", "keyword_accuracy", "threshold"} <= set(report)
    bad = CliRunner().invoke(cli, ["evaluate", str(exported_spotter[0]), "--data", "alsa_speech", "--split", "train"])
    assert isinstance(bad.exception, InvalidInputError) and "test set only" in str(bad.exception)
    result = CliRunner().invoke(cli, ["evaluate", str(exported_spotter[0]), "--data", "asterisk_speech", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["examples"] > 200
