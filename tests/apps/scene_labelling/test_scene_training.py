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


def test_the_scene_pipeline_streams_the_batches_of_load_scenes():
    import numpy as np

    from deepedge.apps.scene_labelling.recipes import scene_pipeline
    from deepedge.data.scenes import load_scenes
    from deepedge.training import ordered_batches

    scenes = load_scenes("train", 7, size=64, seed=11)
    expected = list(ordered_batches(scenes.images.astype(np.float32), scenes.masks, 3).as_numpy_iterator())
    streamed = list(scene_pipeline(7, 64, 11, 3).as_numpy_iterator())
    assert [len(b[0]) for b in streamed] == [3, 3, 1]
    for (image, mask), (want_image, want_mask) in zip(streamed, expected):
        np.testing.assert_array_equal(image, want_image)
        np.testing.assert_array_equal(mask, want_mask)
        assert image.dtype == np.float32 and mask.dtype == np.uint8
