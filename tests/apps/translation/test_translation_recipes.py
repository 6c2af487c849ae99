"""deepedge.apps.translation.recipes and the family: a recipe trains on real German-English pairs,
and `deepedge evaluate` reports BLEU and chrF by source length for the `.keras` file."""

import json

import pytest


@pytest.mark.slow
def test_recipe_trains_on_real_pairs_and_the_family_evaluates_it(tmp_path):
    from click.testing import CliRunner

    from deepedge.apps.translation.recipes import train_preset
    from deepedge.cli import cli

    model, report = train_preset("de_en_attention", tmp_path / "de_en", epochs=1, limit=300, verbose=False)
    assert report["train_examples"] >= 290 and report["history"]["loss"][0] > 0
    assert report["source_vocabulary"] > 500 and (tmp_path / "de_en" / "training.json").exists()
    assert not (tmp_path / "de_en" / "checkpoints").exists()
    result = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "de_en" / "model.keras"), "--limit", "12", "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["metric"] == "bleu" and metrics["data"] == "de_en" and 0.0 <= metrics["value"] <= 100.0
    assert set(metrics["by_source_length"]) <= {"1-10", "11-20", "21-30", "31+"} and "chrf" in metrics
    assert len(metrics["samples"]) == 3 and all(s["translation"] is not None for s in metrics["samples"])
