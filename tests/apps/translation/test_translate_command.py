"""`deepedge translate` and the shipped German-English translators, on device."""

import json

import pytest
from click.testing import CliRunner

from deepedge.presets import saved_models_dir


def shipped(name):
    folder = saved_models_dir() / name
    if not (folder / "model.tflite").exists():
        pytest.fail(f"{folder} has no exported model; run `deepedge train {name}`")
    return folder


def test_translate_a_sentence_and_a_file_from_stdin():
    from deepedge.cli import cli

    shipped("de_en_attention")
    result = CliRunner().invoke(cli, ["translate", "Das Auto ist rot."])
    assert result.exit_code == 0, result.output
    assert "car" in result.output.lower()
    lines = "Wie spät ist es?\n\nEr hat den Zug verpasst.\nIch habe Hunger.\n"
    result = CliRunner().invoke(cli, ["translate", "--file", "-", "--beam", "1"], input=lines)
    assert result.exit_code == 0, result.output
    translated = [line for line in result.output.split("3 sentence(s)")[0].splitlines() if line.strip()]
    assert len(translated) == 3  # the empty line is skipped, each other line gets one translation
    dash = CliRunner().invoke(cli, ["translate", "-", "--beam", "1"], input=lines)  # '-' is stdin, not a sentence
    assert dash.exit_code == 0 and dash.output.split("3 sentence(s)")[0].splitlines() == translated, dash.output
    for bad, message in ((["translate"], "Nothing to translate"), (["translate", "   "], "at least one word"),
                         (["translate", "Hallo " * 60], "Split it into shorter sentences")):
        result = CliRunner().invoke(cli, bad)
        assert result.exit_code != 0 and message in str(result.exception), result.output


def test_shipped_attention_model_beats_the_plain_one_and_its_card_matches():
    from deepedge.data.translation import load_parallel
    from deepedge.edge import load
    from deepedge.ops.bleu import corpus_bleu

    test = load_parallel("de_en", "test").take(150)
    bleu = {}
    for name in ("de_en_attention", "de_en_seq2seq"):
        folder = shipped(name)
        meta = json.loads((folder / "model.json").read_text())
        assert json.loads((folder / "card.json").read_text())["metrics"] == meta["metrics"]
        assert meta["metrics"]["passed"] and {"encode", "decode_step"} <= set(meta["signatures"])
        bleu[name] = corpus_bleu(load(folder).translate(list(test.sources), 4), list(test.targets))
    assert bleu["de_en_attention"] > bleu["de_en_seq2seq"] + 2.0, bleu
