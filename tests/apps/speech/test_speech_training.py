"""deepedge.apps.speech.recipes: the recogniser's two-stage recipe and its checkpoints."""

import pytest


@pytest.mark.slow
def test_recogniser_recipe_fine_tunes_with_neural_voices_and_a_kill_keeps_its_first_stage(tmp_path, monkeypatch,
                                                                                          capsys):
    """The shipped recipe's second stage adds Kokoro's voices; killed there, a rerun starts from
    the saved first stage instead of training it again."""
    import json

    import deepedge.data.speech as speech
    from deepedge.apps.speech import presets
    from deepedge.apps.speech.recipes import train_recognizer

    recipe = presets.ASR_TRAINED["asr_ctc"]["recipe"]
    monkeypatch.setitem(presets.ASR_TRAINED["asr_ctc"], "recipe",
                        {**recipe, "fine_tune": {**recipe["fine_tune"], "epochs": 1}})
    load, killed = speech.load_sentences, []

    def small(split="train", count=None, seed=2014, neural=False):  # a few sentences, not 6,000
        if neural and not killed:
            killed.append(True)
            raise KeyboardInterrupt
        return load(split, 2 if neural else 3 if split == "validation" else 10, seed, neural)

    monkeypatch.setattr(speech, "load_sentences", small)
    checkpoints = tmp_path / "checkpoints"
    with pytest.raises(KeyboardInterrupt):
        train_recognizer("asr_ctc", tmp_path, epochs=1, limit=10, checkpoint_dir=checkpoints, verbose=True)
    assert (checkpoints / "first_stage.keras").exists() and not (tmp_path / "model.keras").exists()
    capsys.readouterr()
    model, report = train_recognizer("asr_ctc", tmp_path, epochs=1, limit=10, checkpoint_dir=checkpoints)
    assert "Starting the fine-tuning stage from" in capsys.readouterr().out
    stage = report["fine_tune"]
    assert stage["epochs"] == 1 and len(stage["history"]["loss"]) == 1 and len(report["history"]["loss"]) == 1
    assert stage["train_examples"] > report["train_examples"]  # the neural sentences joined the second stage
    assert "neural voices" in report["note"] and not checkpoints.exists()
    assert json.loads((tmp_path / "training.json").read_text())["fine_tune"]["epochs"] == 1
    assert (tmp_path / "model.keras").exists() and model.count_params() == report["params"]
