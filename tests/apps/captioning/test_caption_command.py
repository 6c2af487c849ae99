"""`deepedge caption` and the shipped captioners, on device."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from deepedge.presets import saved_models_dir


def shipped(name):
    folder = saved_models_dir() / name
    if not (folder / "model.tflite").exists():
        pytest.fail(f"{folder} has no exported model; run `deepedge train {name}`")
    return folder


@pytest.fixture(scope="module")
def held_out():
    from deepedge.data.captions import load_captions

    return load_captions("test", 40)


def test_caption_your_own_pictures_in_any_format(held_out, tmp_path):
    from deepedge.cli import cli
    from deepedge.data.captions import OBJECT_WORDS

    shipped("scenes_captioner")
    named = 0
    for i in range(8):
        image = Image.fromarray(held_out.images[i]).resize((200, 200))  # a larger picture than the model's
        image.save(tmp_path / f"{i}.png")
        result = CliRunner().invoke(cli, ["caption", str(tmp_path / f"{i}.png")])
        assert result.exit_code == 0, result.output
        kinds = {o["kind"] for o in held_out.objects[i]}
        named += bool({OBJECT_WORDS.get(w) for w in result.output.split()} & kinds)
    assert named >= 6  # held-out instances, named from a resized PNG
    Image.fromarray(held_out.images[0]).convert("LA").save(tmp_path / "grey.png")
    rgba = np.concatenate([held_out.images[1], np.full((64, 64, 1), 255, np.uint8)], axis=-1)
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    result = CliRunner().invoke(cli, ["caption", str(tmp_path / "grey.png"), str(tmp_path / "rgba.png"), "--beam", "1",
                                      "--attention", str(tmp_path / "fig3.png")])
    assert result.exit_code == 0, result.output
    assert result.output.count(".png: ") == 2 and (tmp_path / "fig3.png").stat().st_size > 1000
    (tmp_path / "broken.png").write_bytes(b"not a picture")
    result = CliRunner().invoke(cli, ["caption", str(tmp_path / "broken.png")])
    assert result.exit_code != 0 and "not a readable image" in str(result.exception)
    result = CliRunner().invoke(cli, ["caption", str(tmp_path / "0.png"), "--model", "de_en_attention"])
    assert result.exit_code != 0 and "does not caption" in str(result.exception)


def test_shipped_captioners_cards_hold_the_targets_they_report():
    cards = {name: json.loads((shipped(name) / "model.json").read_text())["metrics"]
             for name in ("scenes_captioner", "scenes_show_and_tell")}
    for metrics in cards.values():
        assert metrics["passed"] and metrics["drop"] <= 1.0  # int8 BLEU-4 within 1.0 of float
        for split in ("test", "test_combinations"):
            report = metrics["captioning"][split]
            assert report["edge_beam3"]["bleu4"] >= report["edge_greedy"]["bleu4"] - 0.5
    attend = cards["scenes_captioner"]["captioning"]["test_combinations"]
    tell = cards["scenes_show_and_tell"]["captioning"]["test_combinations"]
    assert attend["keras_greedy"]["bleu4"] > tell["keras_greedy"]["bleu4"]
    assert abs(attend["keras_grounding"] - attend["edge_grounding"]) <= 2.0
