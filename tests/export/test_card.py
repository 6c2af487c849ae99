"""deepedge.export.card: the model card reports what the export measured."""

import json
import shutil

from deepedge.export.card import render_markdown, write_model_card


def test_model_card_reports_the_export(exported_int8, tmp_path):
    folder = shutil.copytree(exported_int8, tmp_path / "m")
    card = write_model_card(folder, data={"name": "digits", "source": "scikit-learn", "licence": "BSD-3-Clause"},
                            export_command="deepedge export x.keras --out m")
    meta = json.loads((folder / "model.json").read_text())
    assert card["size_bytes"] == meta["size_bytes"] and card["metrics"] == meta["metrics"]
    text = (folder / "card.md").read_text()
    assert text == render_markdown(card)
    assert f"{meta['metrics']['keras_float']:.2f}" in text and "BSD-3-Clause" in text
    assert "deepedge export x.keras --out m" in text
