"""deepedge.apps.scene_labelling.recipes: the shipped recipe runs, resumes and reports."""

import json

import pytest

from deepedge.data.scenes import NUCLEI_CLASSES


@pytest.mark.slow
def test_training_recipe_runs_resumes_and_reports(tmp_path):
    from deepedge.apps.scene_labelling.recipes import train_preset

    out = tmp_path / "nuclei"
    model, report = train_preset("nuclei_labeller", out, epochs=1, limit=16, verbose=False)
    assert (out / "model.keras").exists() and not (out / "checkpoints").exists()
    saved = json.loads((out / "training.json").read_text())
    assert saved["metric"] == "foreground_iou" and 0.0 <= saved["validation_metric"] <= 100.0
    assert saved["command"] == f"deepedge train nuclei_labeller --out {out} --epochs 1 --limit 16"
    assert set(saved["validation"]["iou"]) == set(NUCLEI_CLASSES)
    assert model.dtype_policy.name == "float32"
