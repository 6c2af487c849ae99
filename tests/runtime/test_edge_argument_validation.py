"""Every public argument of the shipped models, loaded with `deepedge.edge.load`, is checked: a bad
one raises InvalidInputError naming the argument, what was received and what to pass, never a
raw ValueError/TypeError/OverflowError, and never a silently wrong answer (issue 23, item 7)."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from deepedge.presets import saved_models_dir

_LOADED = {}


@pytest.fixture(scope="module")
def load():
    """Each shipped model loaded once for the whole module, on first use."""
    from deepedge.edge import load as edge_load

    def get(name):
        if name not in _LOADED:
            _LOADED[name] = edge_load(saved_models_dir() / name)
        return _LOADED[name]

    yield get
    _LOADED.clear()


def refused(call, *shown):
    """Runs `call` (iterating what it returns), expects InvalidInputError, and checks its message
    shows each of `shown`, what was received and what to do."""
    with pytest.raises(InvalidInputError) as raised:
        result = call()
        if hasattr(result, "__next__"):
            list(result)
    message = str(raised.value)
    for text in shown:
        assert text in message, message
    assert "Received" in message and "Pass" in message, message
    return message


# === Image classifier ===

@pytest.mark.parametrize("top_k", [-3, 0, 2.5, "3", True, None])
def test_classify_refuses_a_bad_top_k(load, top_k):
    classifier = load("fashion_edgenet")
    image = np.zeros(classifier.image_shape, np.uint8)
    refused(lambda: classifier.classify(image, top_k=top_k), "`top_k`", repr(top_k))


def test_classify_top_k_above_the_labels_lists_each_label_once(load):
    classifier = load("fashion_edgenet")
    labels = classifier.classify(np.zeros(classifier.image_shape, np.uint8), top_k=50)[0]
    assert len(labels) == len(classifier.class_names)


def test_ragged_or_empty_image_lists_are_refused(load):
    classifier = load("fashion_edgenet")
    message = refused(lambda: classifier.predict([np.zeros((28, 28)), np.zeros((20, 20))]), "images[1]", "(20, 20)")
    assert "inhomogeneous" not in message
    refused(lambda: classifier.predict([]), "empty batch of images")


# === Language model ===

@pytest.mark.parametrize("data, shown", [([], "empty"), (np.zeros(0, np.int32), "empty"),
                                         ([2**32 + 5, 3], "4294967301"), (np.array([2**32 + 5]), "4294967301"),
                                         ([1.5, 3], "1.5"), (np.array([1.0, 3.0]), "float64"),
                                         ([True, 3], "bool"), (5, "int"), (["she was", 3], "3")])
def test_perplexity_refuses_empty_float_and_overflowing_ids(load, data, shown):
    model = load("austen_nplm")
    refused(lambda: model.perplexity(data), shown)


def test_perplexity_of_good_ids_is_finite(load):
    model = load("austen_nplm")
    ids = model.tokenizer.encode("it is a truth universally acknowledged")
    assert np.isfinite(model.perplexity(ids)) and model.perplexity(np.array(ids, np.uint16)) == model.perplexity(ids)


@pytest.mark.parametrize("arguments, shown", [
    ({"temperature": float("inf")}, "`temperature`"), ({"temperature": float("nan")}, "`temperature`"),
    ({"temperature": 0}, "`temperature`"), ({"temperature": -1.0}, "`temperature`"),
    ({"seed": 1.5}, "`seed`"), ({"seed": "a"}, "`seed`"), ({"seed": -1}, "`seed`"),
    ({"top_k": 2.5}, "`top_k`"), ({"top_k": "a"}, "`top_k`"), ({"top_k": 0}, "`top_k`"),
    ({"max_tokens": -1}, "`max_tokens`"), ({"max_tokens": 2.5}, "`max_tokens`"),
    ({"max_tokens": float("inf")}, "`max_tokens`"), ({"beam_width": -1}, "`beam_width`"),
    ({"beam_width": 2.5}, "`beam_width`"), ({"beam_width": 0}, "`beam_width`"), ({"strategy": "beam"}, "`strategy`"),
    ({"beam_width": 2, "temperature": float("inf")}, "`temperature`")])
def test_generate_refuses_bad_controls(load, arguments, shown):
    model = load("austen_nplm")
    refused(lambda: model.generate("It is", **{"max_tokens": 5, **arguments}), shown)


def test_a_tiny_temperature_samples_the_likeliest_token_without_nan(load):
    import warnings

    from deepedge.ops.decoding import Sampler

    rng = np.random.default_rng(0)
    logits = np.array([0.0, 3.0, 1.0, 2.9])
    assert [Sampler("sample", temperature=1e-310)(logits, rng) for _ in range(20)] == [1] * 20
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or NaN on the way
        assert load("austen_nplm").generate("It is", max_tokens=5, temperature=1e-310, seed=1).startswith("It is")


# === Keyword spotter ===

@pytest.mark.parametrize("hop_seconds", [0, -1, 0.0001, float("nan"), float("inf"), 2.0, "0.25"])
def test_detect_refuses_a_bad_hop_when_called(load, hop_seconds):
    spotter = load("kws_dscnn")
    audio = np.zeros(2 * spotter.clip_samples, np.float32)
    with pytest.raises(InvalidInputError, match="`hop_seconds`"):
        spotter.detect(audio, hop_seconds=hop_seconds)  # before the first window, not when iterated
    with pytest.raises(InvalidInputError, match="`hop_seconds`"):
        spotter.window_scores(audio, hop_seconds=hop_seconds)


def test_detect_refuses_bad_smoothing_and_empty_audio(load):
    spotter = load("kws_dscnn")
    refused(lambda: spotter.detect(np.zeros(16000, np.float32), smoothing=0), "`smoothing`")
    with pytest.raises(InvalidInputError, match="empty"):
        spotter.detect(np.zeros(0, np.float32))


def test_keyword_spotter_refuses_bad_arguments(load):
    spotter = load("kws_dscnn")
    clip = np.zeros(spotter.clip_samples, np.float32)
    refused(lambda: spotter.classify(clip, top_k=-3), "`top_k`")
    refused(lambda: spotter.predict(np.zeros((0, spotter.clip_samples), np.float32)), "empty batch of audio")
    refused(lambda: spotter.predict([]), "empty batch of audio")
    refused(lambda: spotter.predict([clip, clip[:100]]), "audio[1]")
    refused(lambda: spotter.evaluate_report((clip[None], [0]), threshold=1.5), "`threshold`")
    refused(lambda: spotter.calibrate(clip[None], [0], target_false_accepts=float("nan")), "`target_false_accepts`")
    refused(lambda: spotter.calibrate(clip[None], [0.5]), "float64")
    refused(lambda: spotter.calibrate(clip[None], []), "shape (0,)")


# === Speech recogniser ===

def test_transcribe_refuses_empty_audio_and_bad_beams(load):
    recognizer = load("asr_ctc")
    for audio in (np.zeros(0, np.float32), []):
        with pytest.raises(InvalidInputError, match="empty"):
            recognizer.transcribe(audio)
    audio = np.zeros(1600, np.float32)
    for beam_width in (-1, 0, 2.5, "8"):
        refused(lambda: recognizer.transcribe(audio, beam_width=beam_width), "`beam_width`")
    refused(lambda: recognizer.decode(np.zeros((3, len(recognizer.characters) + 1)), beam_width=-2), "`beam_width`")


# === Translator ===

@pytest.mark.parametrize("arguments, shown", [
    ({"beam_width": -1}, "`beam_width`"), ({"beam_width": 0}, "`beam_width`"), ({"beam_width": 2.5}, "`beam_width`"),
    ({"beam_width": 5}, "from 1 to 4"), ({"max_tokens": -1}, "`max_tokens`"), ({"max_tokens": 0}, "`max_tokens`"),
    ({"max_tokens": 2.5}, "`max_tokens`"), ({"length_penalty": float("nan")}, "`length_penalty`"),
    ({"length_penalty": "1"}, "`length_penalty`"), ({"on_sentence": 3}, "callable")])
def test_translate_refuses_bad_decoding_controls(load, arguments, shown):
    translator = load("es_en_attention")
    with pytest.raises(InvalidInputError, match=shown.replace("(", r"\(")):
        translator.translate("hola", **arguments)


def test_translate_with_good_controls_still_translates(load):
    translator = load("es_en_attention")
    assert translator.translate("hola", beam_width=2, max_tokens=np.int64(4), length_penalty=0)
    assert translator.translate([]) == []


# === Captioner ===

def test_caption_refuses_ragged_images_and_bad_controls(load):
    captioner = load("scenes_captioner")
    size = captioner.image_size
    image = np.zeros((size, size, 3), np.uint8)
    refused(lambda: captioner.caption([image, image[:-1]]), "images[1]")
    refused(lambda: captioner.caption(image, beam_width=captioner.decoder_rows + 1),
            f"from 1 to {captioner.decoder_rows}")
    refused(lambda: captioner.caption(image, beam_width=1.5), "`beam_width`")
    refused(lambda: captioner.caption(image, max_tokens=-2), "`max_tokens`")
    refused(lambda: captioner.caption(image, length_penalty=float("inf")), "`length_penalty`")


# === Glimpse agent, scene labeller, Q-network ===

def test_glimpse_agent_refuses_empty_and_ragged_batches(load):
    agent = load("glimpse_cluttered")
    refused(lambda: agent.predict([np.zeros((40, 40)), np.zeros((30, 30))]), "images[1]")
    with pytest.raises(InvalidInputError, match="Expected grey images"):
        agent.predict(np.zeros((0, 40, 40), np.uint8))


def test_scene_labeller_refuses_ragged_batches_and_a_bad_alpha(load):
    labeller = load("nuclei_labeller")
    refused(lambda: labeller.predict([np.zeros((32, 32)), np.zeros((16, 16))]), "images[1]")
    refused(lambda: labeller.overlay(np.zeros((32, 32), np.uint8), alpha=2.0), "`alpha`")


@pytest.mark.parametrize("arguments, shown", [({"seed": 1.5}, "`seed`"), ({"seed": -1}, "`seed`"),
                                              ({"episode": "3"}, "`episode`"), ({"epsilon": 1.5}, "`epsilon`"),
                                              ({"max_steps": 0}, "`max_steps`")])
def test_q_network_refuses_bad_episode_arguments(load, arguments, shown):
    agent = load("dqn_cartpole")
    refused(lambda: agent.play_episode(**arguments), shown)
