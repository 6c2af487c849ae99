"""Real data, real training, real export: the path a user takes, in seconds."""

import json

import numpy as np
import pytest

from deepedge.apps import ImageClassifier
from deepedge.data import load_fashion_mnist
from deepedge.edge import load
from deepedge.registry import family
from deepedge.presets import saved_models_dir
from deepedge.training import ImageAugmentation, fit_resumable, recalibrate_batch_norm, seed_everything


@pytest.mark.slow
def test_fashion_mnist_lenet5_trains_exports_and_runs_on_device(tmp_path):
    seed_everything(0)
    train = load_fashion_mnist("train").take(8000)
    test = load_fashion_mnist("test").take(2000)
    model = ImageClassifier.from_preset("lenet5", class_names=train.class_names)
    model.compile()
    model, history = fit_resumable(model, train.images, train.labels, epochs=3, checkpoint_dir=tmp_path / "ckpt",
                                   batch_size=64, augmentation=ImageAugmentation(flip=True), verbose=0)
    recalibrate_batch_norm(model, train.images)
    accuracy = model.evaluate_metric(test)
    assert accuracy >= 78.0, accuracy
    meta = model.export(tmp_path / "int8", calibration_data=train, evaluation_data=test)
    assert meta["metrics"]["passed"] and meta["size_bytes"] < 100_000
    on_device = load(tmp_path / "int8")
    assert abs(on_device.evaluate_metric(test) - accuracy) <= 0.5
    assert on_device.classify(test.images[:1])[0][0][0] in train.class_names


def _shipped_int8_with_card(name):
    """The shipped model's folder and model.json, after checking its card matches its export."""
    folder = saved_models_dir() / name
    if not (folder / "model.tflite").exists():
        pytest.fail(f"{folder} has no exported model; run `deepedge train {name}`")
    meta = json.loads((folder / "model.json").read_text())
    card = json.loads((folder / "card.json").read_text())
    assert card["metrics"] == meta["metrics"] and meta["quantization"] == "int8"
    assert "deepedge train" in (folder / "card.md").read_text()
    return folder, meta


SHIPPED = ["fashion_lenet5", "fashion_edgenet"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_meets_its_card_on_device(name):
    folder, meta = _shipped_int8_with_card(name)
    assert meta["metrics"]["split"] == "test" and meta["metrics"]["examples"] == 10_000
    test = load_fashion_mnist("test").take(2000)
    accuracy = load(folder).evaluate_metric(test)
    assert accuracy >= 89.0


@pytest.mark.slow
def test_shipped_keras_models_load_safely_and_agree_with_their_int8_export():
    test = load_fashion_mnist("test").take(500)
    for name in SHIPPED:
        keras_model = ImageClassifier.from_preset(name)
        on_device = load(saved_models_dir() / name)
        keras_labels = np.argmax(keras_model.predict(test.images, verbose=0), -1)
        edge_labels = np.argmax(on_device.predict(test.images), -1)
        assert np.mean(keras_labels == edge_labels) >= 0.98


@pytest.mark.slow
def test_demo_prints_the_table_and_draws_the_pictures(tmp_path):
    from rich.console import Console

    console = Console(record=True, width=140)
    rows = family("image_classification").demo(tmp_path, limit=300, console=console)
    assert [r["model"] for r in rows] == SHIPPED
    assert all(r["int8_accuracy"] >= 85.0 and r["latency_us"] > 0 for r in rows)
    text = console.export_text()
    assert "fashion_edgenet" in text and "int8 acc" in text
    for name in SHIPPED:
        for picture in (f"{name}_predictions.png", f"{name}_feature_maps.png"):
            assert (tmp_path / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


LANGUAGE_SHIPPED = ["austen_lstm_word", "austen_nplm"]


@pytest.mark.slow
@pytest.mark.parametrize("name", LANGUAGE_SHIPPED)
def test_shipped_language_model_beats_kneser_ney_on_device(name):
    from deepedge.ops.ngram import KneserNey
    from deepedge.data.text import load_austen

    folder, meta = _shipped_int8_with_card(name)
    assert meta["metrics"]["split"] == "test" and meta["metrics"]["passed"]
    runtime = load(folder)
    test = load_austen("test").take(3)
    ids = runtime.tokenizer.encode_paragraphs(test.paragraphs)
    train_ids = runtime.tokenizer.encode_paragraphs(load_austen("train").paragraphs)
    kn = KneserNey(order=5).fit(train_ids, runtime.tokenizer.vocabulary_size)
    assert runtime.perplexity(ids) < kn.perplexity(ids)


@pytest.mark.slow
def test_generate_command_runs_the_shipped_model(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "deepedge.cli", "generate", "It is a truth", "--seed", "1",
                             "--max-tokens", "30"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("It is a truth") and len(result.stdout.split()) > 4
    assert "tokens/s" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_language_demo_prints_perplexities_samples_and_word_vectors(tmp_path):
    from rich.console import Console


    console = Console(record=True, width=160)
    family("language_model").demo(tmp_path, limit=2, console=console)
    text = console.export_text()
    assert "Kneser-Ney 5-gram" in text and "austen_lstm_word" in text and "It is a truth" in text
    assert "mother:" in text  # nearest neighbours
    assert (tmp_path / "austen_lstm_word_word_vectors_tsne.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_shipped_scene_labellers_meet_their_cards_and_the_demo_draws_them(tmp_path):
    from rich.console import Console

    from deepedge.data.scenes import load_nuclei

    for name in ("scenes_labeller", "nuclei_labeller"):
        folder, meta = _shipped_int8_with_card(name)
        assert meta["metrics"]["split"] == "test" and meta["metrics"]["passed"]
        assert meta["input"]["shape"] == [128, 128, 1] and "FlexDelegate" not in meta["ops"]
    nuclei = load(saved_models_dir() / "nuclei_labeller")
    assert nuclei.evaluate_metric(load_nuclei("test")) >= 80.0  # foreground IoU on the held-out strip
    console = Console(record=True, width=160)
    rows = family("scene_labelling").demo(tmp_path, limit=40, console=console)
    scenes = rows[0]
    assert scenes["model"] == "scenes_labeller" and scenes["int8"] >= 75.0
    # Wall-clock time depends on the machine and on what else runs: hold the demo's figure to
    # the card's (measured on a quiet machine) within a factor that only a lost delegate or a
    # per-call setup cost would break.
    card_ms = _shipped_int8_with_card("scenes_labeller")[1]["latency_us"]["median"] / 1000
    assert 0 < scenes["latency_ms"] < 3 * card_ms, (scenes["latency_ms"], card_ms)
    assert "IoU per class" in console.export_text()
    for name in ("scenes_labeller", "nuclei_labeller"):
        assert (tmp_path / f"{name}_overlay.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_shipped_speech_models_meet_their_cards_and_the_demo_streams_them(tmp_path):
    from rich.console import Console

    from deepedge.data.speech import load_keywords, load_sentences

    folder, meta = _shipped_int8_with_card("kws_dscnn")
    assert meta["metrics"]["passed"] and meta["size_bytes"] <= 100 * 1024 and meta["input"]["kind"] == "audio"
    reports = meta["metrics"]["keyword_reports"]
    assert {"keywords/test", "alsa_speech (real)"} <= set(reports)
    # Trained with neural voices: six held-out ones, and the real telephone speaker's keywords, are heard.
    assert reports["neural_keywords/test (held-out neural voices)"]["litert_int8"]["accuracy"] >= 80.0
    assert reports["asterisk_speech (real, telephone)"]["litert_int8"]["keyword_accuracy"] >= 40.0
    spotter = load(folder)
    assert spotter.evaluate_metric(load_keywords("test").take(400)) >= 88.0
    folder, meta = _shipped_int8_with_card("asr_ctc")
    assert meta["signatures"].keys() == {"step"} and meta["metrics"]["split"] == "test"
    recognizer = load(folder)
    assert recognizer.evaluate_metric(load_sentences("test").take(20)) <= meta["metrics"]["litert_int8"] + 15.0
    console = Console(record=True, width=160)
    rows = (family("keyword_spotting").demo(tmp_path, limit=60, console=console)
            + family("speech_recognition").demo(tmp_path, limit=60, console=console))
    text = console.export_text()
    assert "streaming" in text and "heard:" in text and any(r["model"] == "asr_ctc" for r in rows)
    for picture in ("kws_dscnn_stream.png", "kws_dscnn_real_speech.png", "asr_ctc_outputs.png"):
        assert (tmp_path / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_shipped_agents_meet_their_cards_and_the_demo_draws_them(tmp_path):
    from rich.console import Console

    folder, meta = _shipped_int8_with_card("glimpse_cluttered")
    assert meta["metrics"]["split"] == "test" and meta["metrics"]["passed"] and meta["signatures"].keys() == {"step"}
    assert 1 - meta["metrics"]["litert_int8"] <= 0.06  # cluttered 60x60: error at most 6%
    console = Console(record=True, width=160)
    rows = family("glimpse_classification").demo(tmp_path, limit=100, console=console)
    glimpse = next(r for r in rows if r["model"] == "glimpse_cluttered")
    assert glimpse["int8_error"] <= 10.0 and glimpse["multiply_accumulates"] == meta["multiply_accumulates"]
    assert all(open(gif, "rb").read(6) == b"GIF89a" for gif in glimpse["gifs"]) and len(glimpse["gifs"]) == 4
    folder, meta = _shipped_int8_with_card("dqn_cartpole")
    assert meta["metrics"]["litert_int8"] >= 475.0  # solved on device, in int8
    rows = family("q_learning").demo(tmp_path, limit=3, console=console)
    assert {r["model"] for r in rows} >= {"dqn_cartpole", "dqn_minatar_breakout"}
    assert "Glimpse agents on device" in console.export_text()
    assert (tmp_path / "dqn_cartpole_play.gif").read_bytes()[:6] == b"GIF89a"
