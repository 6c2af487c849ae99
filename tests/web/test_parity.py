"""Parity across runtimes: the page's LiteRT.js (WebAssembly, headless chromium) and the Python
runtime (`deepedge.edge`) give the same answers on the same real inputs, for every shipped model.

Decisions must match exactly (class, keyword, label map, greedy and beam tokens, transcript,
translation, caption, action); scores may differ by at most one quantization step of the output.
"""

from pathlib import Path

import numpy as np
import pytest

SHIPPED = Path(__file__).resolve().parents[2] / "saved_models"
pytestmark = pytest.mark.slow


def edge(name):
    from deepedge.edge import load

    return load(SHIPPED / name)


def output_step(name):
    """One quantization step of the model's (first) output as the page reads it."""
    import json

    meta = json.loads((SHIPPED / name / "model.json").read_text())
    spec = (meta.get("browser") or meta)["outputs"][0]
    return spec["scale"] or 1 / 256  # a float output of a softmax quantized to int8 inside


@pytest.mark.parametrize("name", ["fashion_edgenet", "fashion_lenet5"])
def test_image_classifiers_agree(page, name):
    from deepedge.data import load_fashion_mnist

    from ai_edge_litert.interpreter import Interpreter

    images = load_fashion_mnist("test").images[:16]
    python = edge(name).predict(images)
    variant = Interpreter(model_path=str(SHIPPED / name / "model_browser.tflite")).get_signature_runner()
    for image, expected in zip(images, python):
        result = page.evaluate("([n, p]) => deepedge.api.image.classify(n, p)", [name, image.reshape(-1).tolist()])
        assert result["label"] == int(np.argmax(expected))
        assert np.abs(np.array(result["scores"]) - expected).max() <= output_step(name) + 1e-6
        maps = variant(images=image.reshape(1, 28, 28, 1).astype(np.uint8))["feature_maps"].reshape(-1)
        assert np.abs(np.array(result["maps"], np.int16) - maps).max() <= 1


def test_keyword_spotter_agrees(page):
    from deepedge.data.speech import load_keywords
    from deepedge.ops.audio import as_pcm

    data = load_keywords("test")
    clips = as_pcm(data.audio[::150][:12])
    runtime = edge("kws_dscnn")
    scores, labels = runtime.predict(clips), runtime.label(clips)
    for clip, expected, label in zip(clips, scores, labels):
        result = page.evaluate("([n, a]) => deepedge.api.keywords.spot(n, a)", ["kws_dscnn", clip.tolist()])
        assert result["label"] == label
        assert np.abs(np.array(result["scores"]) - expected).max() <= 1 / 256


def test_speech_recognizer_writes_the_same_transcripts(page):
    """Greedy, and prefix beam search with the character language model (read from its .npz in
    the page), over sentences long enough for the beam to commit text as it streams."""
    from deepedge.data.speech import load_sentences

    data = load_sentences("test")
    runtime = edge("asr_ctc")
    for i in (0, 7, 21):
        audio = data.waveform(i)
        for beam in (None, 16):
            expected = runtime.transcribe(audio, beam_width=beam)
            assert expected.strip()
            text = page.evaluate("([n, a, b]) => deepedge.api.speech.transcribe(n, a, b)",
                                 ["asr_ctc", audio.tolist(), beam])
            assert text == expected, beam
    long = np.concatenate([data.waveform(i) for i in range(8)])  # > 64 steps a commit
    text = page.evaluate("([n, a]) => deepedge.api.speech.transcribe(n, a, 8)", ["asr_ctc", long.tolist()])
    assert text == runtime.transcribe(long, beam_width=8)


@pytest.mark.parametrize("name", ["austen_lstm_word", "austen_nplm"])
def test_language_models_write_the_same_tokens(page, name):
    from deepedge.ops.decoding import Sampler, beam_search, sample_sequence

    runtime = edge(name)
    tokenizer = runtime.tokenizer
    for prompt in ("It is a truth universally acknowledged", "Mr. Darcy said that she"):
        ids = [tokenizer.end_id] + tokenizer.encode(prompt)
        greedy = sample_sequence(runtime.step_fn(), ids, runtime.initial_state(), 12,
                                 Sampler("greedy", banned=(tokenizer.unknown_id,)), stop_token=tokenizer.end_id)
        result = page.evaluate("([n, p]) => deepedge.api.language.generate(n, p, {strategy: 'greedy', maxTokens: 12})",
                               [name, prompt])
        assert result["ids"] == greedy
        assert result["text"] == runtime.generate(prompt, max_tokens=12, strategy="greedy")
        beam, _ = beam_search(runtime.step_fn(), ids, runtime.initial_state(), 8, beam_width=3,
                              stop_token=tokenizer.end_id, banned=(tokenizer.unknown_id,))[0]
        result = page.evaluate("([n, p]) => deepedge.api.language.generate(n, p, {beamWidth: 3, maxTokens: 8})",
                               [name, prompt])
        assert result["ids"] == beam


@pytest.mark.parametrize("name", ["scenes_labeller", "nuclei_labeller"])
def test_scene_labellers_give_the_same_label_maps(page, name):
    from skimage import data

    runtime = edge(name)
    for image in (data.brick()[:128, :128], data.grass()[40:140, 10:160], data.gravel()[:200, :300]):
        expected = runtime.label(image)
        height, width = image.shape
        labels = page.evaluate("([n, g, h, w]) => deepedge.api.scenes.label(n, g, h, w)",
                               [name, image.reshape(-1).tolist(), height, width])
        np.testing.assert_array_equal(np.array(labels, np.uint8).reshape(height, width), expected)


@pytest.mark.parametrize("name", ["de_en_attention", "de_en_seq2seq", "es_en_attention", "es_en_seq2seq"])
def test_translators_write_the_same_translation(page, name):
    from deepedge.data.translation import load_parallel

    corpus = load_parallel(name[:5], "test")
    runtime = edge(name)
    for source in list(corpus.sources)[:3]:
        result = page.evaluate("([n, s]) => deepedge.api.sequences.translate(n, s)", [name, source])
        assert result["text"] == runtime.translate(source)
        result = page.evaluate("([n, s]) => deepedge.api.sequences.translate(n, s, 3)", [name, source])
        assert result["text"] == runtime.translate(source, beam_width=3)


@pytest.mark.parametrize("name", ["scenes_captioner", "scenes_show_and_tell"])
def test_captioners_write_the_same_caption(page, name):
    from deepedge.data.captions import load_captions

    images = load_captions("test", num_images=3).images
    runtime = edge(name)
    for image in images:
        pixels = image.reshape(-1).tolist()
        result = page.evaluate("([n, p]) => deepedge.api.sequences.caption(n, p)", [name, pixels])
        assert result["text"] == runtime.caption(image)
        result = page.evaluate("([n, p]) => deepedge.api.sequences.caption(n, p, 3)", [name, pixels])
        assert result["text"] == runtime.caption(image, beam_width=3)


@pytest.mark.parametrize("name, data", [("glimpse_translated", "mnist_translated_60"),
                                        ("glimpse_cluttered", "mnist_cluttered_60"),
                                        ("glimpse_cluttered_100", "mnist_cluttered_100")])
def test_glimpse_agents_look_at_the_same_places(page, name, data):
    from deepedge.data.glimpses import load_canvases

    canvases = load_canvases(data, "test").images[:4]
    size = canvases.shape[1]
    runtime = edge(name)
    for image in canvases:
        probabilities, locations = runtime.look(image)
        result = page.evaluate(f"([n, g]) => deepedge.api.agents.look(n, g, {size}, {size})",
                               [name, image.reshape(-1).tolist()])
        assert int(np.argmax(result["probabilities"])) == int(np.argmax(probabilities))
        np.testing.assert_allclose(result["locations"], locations, atol=1e-5)
        assert np.abs(np.array(result["probabilities"]) - probabilities).max() <= 1 / 256


@pytest.mark.parametrize("name", ["dqn_cartpole", "dqn_minatar_breakout"])
def test_q_networks_choose_the_same_actions(page, name):
    runtime = edge(name)
    rng = np.random.default_rng(0)
    for _ in range(6):
        if runtime.state_shape == (4,):
            state = rng.uniform([-2.4, -2, -0.2, -2], [2.4, 2, 0.2, 2]).astype(np.float32)
        else:
            state = (rng.random(runtime.state_shape) < 0.1).astype(np.float32)
        expected = runtime.q_values(state)
        result = np.array(page.evaluate("([n, s]) => deepedge.api.agents.qValues(n, s)",
                                        [name, state.reshape(-1).tolist()]))
        assert int(np.argmax(result)) == int(np.argmax(expected))
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-4)


def test_the_page_loaded_without_errors_and_every_model_has_a_panel(page):
    assert page.errors == []
    assert page.evaluate("deepedge.skipped.map(m => m.name)") == []
    assert page.evaluate("document.querySelectorAll('section.panel').length") == 7


def test_the_page_tokenizes_and_detokenizes_as_python_does(page):
    from deepedge.tokenizers import Tokenizer

    texts = ["It is a truth universally acknowledged, that a single man -- in possession of a good fortune!",
             '"Mr. Bennet," said she, "isn\'t it 1813?" I (think) so; Élise wasn\'t naïve.',
             "Wie spät ist es? Ich habe 2 Häuser und über 3,5 Äpfel -- straße", "  ", "ÇA ½ ² x_y",
             "¿Dónde está la estación? Él dijo: «sí».", "tab\tand\nnew  lines... ok?!",
             "He said, “Leave your father’s house—now.” 'It's the parents' 7th car,' at 6 a.m. in the 1990s.",
             "„Du wolltest doch anrufen.“ „Ach ja!“ 3,5 km, $30, 50% (and/or) [sic] seventy-five"]
    for name, key in (("austen_lstm_word", "tokenizer"), ("de_en_attention", "source_tokenizer"),
                      ("de_en_attention", "target_tokenizer"), ("es_en_attention", "source_tokenizer"),
                      ("es_en_attention", "target_tokenizer")):
        config = edge(name).metadata[key]
        tokenizer = Tokenizer.from_config(config)
        result = page.evaluate("""async ([config, texts]) => {
            const {Tokenizer} = await import('/static/tokenizer.js');
            const t = new Tokenizer(config);
            return texts.map(text => {
                const ids = t.encode(text);
                return [t.split(text), ids, t.decode([...ids, 1, ...ids])];
            });
        }""", [config, texts])
        for text, (split, ids, decoded) in zip(texts, result):
            assert split == tokenizer.split(text), text
            assert ids == tokenizer.encode(text), text
            assert decoded == tokenizer.decode(tokenizer.encode(text) + [1] + tokenizer.encode(text)), text


def test_sampling_in_the_page_is_seeded_and_top_1_is_greedy(page):
    options = "{strategy: 'sample', temperature: 0.8, topK: 40, seed: %d, maxTokens: 15}"
    runs = [page.evaluate(f"() => deepedge.api.language.generate('austen_lstm_word', 'She was', {options % seed})")
            for seed in (1, 1, 2)]
    assert runs[0]["ids"] == runs[1]["ids"] and runs[0]["ids"] != runs[2]["ids"]
    top1 = page.evaluate("() => deepedge.api.language.generate('austen_lstm_word', 'She was', "
                         "{strategy: 'sample', topK: 1, seed: 5, maxTokens: 15})")
    greedy = page.evaluate("() => deepedge.api.language.generate('austen_lstm_word', 'She was', "
                           "{strategy: 'greedy', maxTokens: 15})")
    assert top1["ids"] == greedy["ids"] and 0 not in runs[0]["ids"]


@pytest.mark.parametrize("ball_start", [0, 1])
def test_breakout_in_the_page_is_minatars_and_the_dqn_plays_it_alike(page, ball_start):
    """The page's Breakout is MinAtar's (sticky actions off): the same greedy episode, action for
    action, as the Python runtime playing `minatar`'s own game."""
    pytest.importorskip("minatar", reason="MinAtar is not installed (pip install 'deepedge[agents]')")
    from minatar.environments.breakout import Env

    runtime = edge("dqn_minatar_breakout")
    env = Env()
    env.reset()
    env.ball_x, env.ball_dir = [(0, 2), (9, 3)][ball_start]
    env.last_x = env.ball_x
    # The model's actions by name, as the page maps them: MinAtar's action_map holds their initials.
    playable = [env.action_map.index(name[0]) for name in runtime.action_names]
    actions, total = [], 0
    while not env.terminal and len(actions) < 400:
        action = runtime(env.state().astype(np.float32))
        actions.append(action)
        total += env.act(playable[action])[0]
    result = page.evaluate("([n, b]) => deepedge.api.agents.playBreakout(n, b, 400)",
                           ["dqn_minatar_breakout", ball_start])
    assert result["actions"] == actions and result["return"] == total and total > 0


def test_keyword_detections_in_a_long_recording_agree(page):
    from deepedge.data.speech import load_keywords
    from deepedge.ops.audio import as_pcm

    data = load_keywords("test")
    rng = np.random.default_rng(0)
    pieces = []
    for index in (0, 150, 300, 450, 900):  # yes, no, down, left, go
        pause = rng.normal(0, 0.003, int(rng.uniform(0.4, 0.9) * 16000)).astype(np.float32)
        pieces += [pause, as_pcm(data.audio[index])]
    audio = np.concatenate(pieces)
    expected = list(edge("kws_dscnn").detect(audio))
    assert len(expected) >= 3
    result = page.evaluate("([n, a]) => deepedge.api.keywords.detect(n, a)", ["kws_dscnn", audio.tolist()])
    assert [(t, word) for t, word, _ in result] == [(t, word) for t, word, _ in expected]
    assert np.abs(np.array([p for *_, p in result]) - [p for *_, p in expected]).max() <= 1 / 256
