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


def test_card_opens_with_hugging_face_front_matter_that_yaml_reads(exported_int8, tmp_path):
    yaml = __import__("pytest").importorskip("yaml")
    folder = shutil.copytree(exported_int8, tmp_path / "m")
    card = write_model_card(folder, data={"name": "digits", "source": "scikit-learn", "licence": "BSD-3-Clause"})
    text = (folder / "card.md").read_text()
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["library_name"] == "litert" and front["license"] == "apache-2.0"
    assert front["pipeline_tag"] == "image-classification" and "int8" in front["tags"]
    assert front["datasets"] == ["digits"]
    result = front["model-index"][0]["results"][0]
    assert result["dataset"]["split"] == "test"
    assert [m["value"] for m in result["metrics"]] == [card["metrics"]["keras_float"], card["metrics"]["litert_int8"]]


def test_refresh_card_renders_an_old_export_again_without_measuring_it_again(exported_int8, tmp_path):
    from deepedge.errors import ModelFileError
    from deepedge.export.card import refresh_card

    folder = shutil.copytree(exported_int8, tmp_path / "m")
    write_model_card(folder, data={"name": "digits", "source": "scikit-learn", "licence": "BSD-3-Clause"})
    meta = json.loads((folder / "model.json").read_text())
    for key in ("footprint", "accelerators"):  # as an export before the device report wrote it
        meta.pop(key)
    (folder / "model.json").write_text(json.dumps(meta))
    card = refresh_card(folder)
    again = json.loads((folder / "model.json").read_text())
    assert again["footprint"]["flash_bytes"] == (folder / "model.tflite").stat().st_size
    assert again["metrics"] == meta["metrics"] and again["latency_us"] == meta["latency_us"]
    text = (folder / "card.md").read_text()
    from deepedge.registry import family

    assert "| TFLite Micro | runs, arena" in text and card["unit"] == family(meta["task"]).unit
    (folder / "model.tflite").write_bytes((folder / "model.tflite").read_bytes()[:-8] + b"\0" * 8)
    import pytest

    with pytest.raises(ModelFileError, match="another"):
        refresh_card(folder)


def test_the_card_says_where_and_in_what_precision_the_model_trained(exported_int8, tmp_path):
    folder = shutil.copytree(exported_int8, tmp_path / "m")
    record = {"strategy": "mirrored", "requested": "auto", "device": "GPU", "replicas": 4, "workers": 1,
              "precision": "mixed_float16", "jit_compile": True, "per_replica_batch_size": 128,
              "global_batch_size": 512, "learning_rate": 0.008, "scaling_rule": "linear"}
    training = {"command": "deepedge train x", "recipe": {"epochs": 3}, "train_examples": 1000,
                "validation_accuracy": 0.9, "training_seconds": 60.0, "distribution": record}
    (folder / "training.json").write_text(json.dumps(training))
    card = write_model_card(folder)
    assert card["training"]["distribution"] == record
    assert ("Trained on 4 GPU replicas (mirrored strategy, 1 worker) in mixed_float16, XLA on; global batch 512 "
            "(128 per replica).") in (folder / "card.md").read_text()
    one = {**record, "strategy": "default", "device": "CPU", "replicas": 1, "precision": "float32",
           "jit_compile": False, "per_replica_batch_size": 64, "global_batch_size": 64}
    (folder / "training.json").write_text(json.dumps({**training, "distribution": one}))
    write_model_card(folder)
    assert ("Trained on 1 CPU replica (default strategy, 1 worker) in float32, XLA off; global batch 64."
            in (folder / "card.md").read_text())
    (folder / "training.json").write_text(json.dumps({**training, "distribution": None}))  # trained before the record
    assert "Trained on" not in render_markdown(write_model_card(folder))
