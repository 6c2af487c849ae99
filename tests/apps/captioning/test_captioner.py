"""Captioner: teacher forcing, greedy and beam captions, the step-wise int8 export, and bad input."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from test_case import run_edge_export_test

TINY_ENCODER = {"stem_filters": 8, "stem_strides": 2, "block_filters": (16, 24), "block_strides": (2, 2)}


@pytest.fixture(scope="module")
def caption_data(tmp_path_factory):
    import os

    old = os.environ.get("DEEPEDGE_CACHE")
    os.environ["DEEPEDGE_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    try:
        from deepedge.data.captions import load_captions

        yield load_captions("train", 400, size=48), load_captions("test", 24, size=48)
    finally:
        if old is None:
            del os.environ["DEEPEDGE_CACHE"]
        else:
            os.environ["DEEPEDGE_CACHE"] = old


def tiny_captioner(train, attention=True):
    from deepedge.apps.captioning.captioner import Captioner
    from deepedge.tokenizers import WordTokenizer

    tokenizer = WordTokenizer.from_texts([c for refs in train.captions for c in refs])
    return Captioner(tokenizer, image_size=48, encoder=TINY_ENCODER, embedding_dim=16, units=32, attention=attention,
                     attention_units=16, dropout=0.0, max_caption_length=20, attention_regularization=0.01)


@pytest.fixture(scope="module")
def trained_captioners(caption_data):
    from deepedge.backend import keras

    train, _ = caption_data
    models = {}
    for attention in (False, True):
        keras.utils.set_random_seed(0)
        model = tiny_captioner(train, attention)
        x, y = model.teacher_forcing_data(train.images, [refs[0] for refs in train.captions])
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        model.fit(model.training_batches(x, y, 32), epochs=6, verbose=0)
        models[attention] = model
    return models


def test_config_round_trips_and_the_file_loads_in_safe_mode(caption_data, tmp_path):
    from deepedge.apps.captioning.captioner import Captioner

    train, test = caption_data
    model = tiny_captioner(train)
    model.build([(1, 48, 48, 3), (1, 4)])
    assert model.grid_shape == (6, 6)
    model.save(tmp_path / "m.keras")
    loaded = Captioner.load(tmp_path / "m.keras")
    assert loaded.get_config() == model.get_config()
    np.testing.assert_allclose(loaded([test.images[:2], np.ones((2, 3), np.int32)]),
                               model([test.images[:2], np.ones((2, 3), np.int32)]), atol=1e-5)


def test_teacher_forcing_data_and_weights_cover_the_caption_and_its_end(caption_data):
    train, _ = caption_data
    model = tiny_captioner(train)
    (images, tokens_in), ids = model.teacher_forcing_data(train.images[:2], ["a red shoe", "two dogs on grass"])
    end = model.tokenizer.end_id
    assert images.dtype == np.uint8 and tokens_in[0, 0] == end and list(tokens_in[0, 1:4]) == list(ids[0, :3])
    (_, _), _, weights = next(iter(model.training_batches([images, tokens_in], ids, 2)))
    assert weights.numpy().sum(1).tolist() == [4.0, 5.0]  # the words and the end token


def test_training_learns_to_name_the_objects_and_beam_search_names_them_too(trained_captioners, caption_data):
    from deepedge.apps.captioning.metrics import caption_report

    train, test = caption_data
    untrained = caption_report(tiny_captioner(train).caption(test.images), test)
    for attention, model in trained_captioners.items():
        greedy = model.caption(test.images)
        beam = model.caption(test.images, beam_width=3)
        assert all(isinstance(c, str) and c for c in greedy)
        report = caption_report(greedy, test)
        # the grammar's words in order: far above an untrained decoder's random words
        assert report["bleu1"] > untrained["bleu1"] + 20 and report["bleu2"] > untrained["bleu2"] + 15, \
            (attention, report, untrained)
        # a beam of one is greedy decoding; a wider beam still names the objects (on 24 images of
        # a tiny model, beam's BLEU-4 against greedy's moves by several points with the thread
        # count: the shipped models' cards measure beam against greedy)
        assert model.caption(test.images[:6], beam_width=1) == greedy[:6]
        assert caption_report(beam, test)["bleu1"] > untrained["bleu1"] + 20
    single = trained_captioners[True].caption(test.images[0])
    assert isinstance(single, str)
    assert len(trained_captioners[True].last_attention) >= 1
    assert trained_captioners[True].last_attention[0].shape == (1, 36)


@pytest.mark.slow
@pytest.mark.parametrize("attention", [False, True])
def test_int8_export_runs_without_tensorflow_and_agrees_with_keras(trained_captioners, caption_data, attention,
                                                                  tmp_path):
    from deepedge.edge import load

    train, test = caption_data
    model = trained_captioners[attention]
    bad = [("caption", np.zeros((2, 32, 32, 3)), "Expected images of shape"),
           ("caption", np.zeros((48, 48)), "Expected images of shape")]
    meta, runtime, result = run_edge_export_test(
        model, tmp_path / "int8", train, test, "runtime.caption(x, 3)", edge_inputs=test.images[:4].astype(np.float32),
        bad_inputs=bad, num_calibration=200, max_drop=5.0)  # 24 images of a tiny model: a few words flip
    assert set(meta["signatures"]) == {"encode", "decode_step"}
    assert meta["memory"] == (["memory", "keys"] if attention else []) and meta["grid"] == [6, 6]
    greedy_keras = model.caption(test.images[:12])
    model.export(tmp_path / "float32", quantization="float32")
    float_runtime = load(tmp_path / "float32")
    assert float_runtime.caption(test.images[:12].astype(np.float32)) == greedy_keras  # the same decoder
    rows = float_runtime.decoder_rows
    keras_step, keras_state = model.start(test.images[:2].astype(np.float32), rows)
    edge_step, edge_state = float_runtime.start(test.images[:2].astype(np.float32), rows)
    for tokens in ([1] * rows, [4, 5, 6][:rows], [2, 3, 2][:rows]):
        keras_logits, keras_state = keras_step(np.array(tokens), keras_state)
        edge_logits, edge_state = edge_step(np.array(tokens), edge_state)
        np.testing.assert_allclose(edge_logits, keras_logits, atol=1e-4)
    if attention:
        runtime.caption(test.images[0].astype(np.float32))
        weights = runtime.last_attention[0][0]
        assert weights.shape == (36,) and abs(weights.sum() - 1.0) < 1e-3


def test_prepare_image_takes_any_picture_and_refuses_broken_files(tmp_path):
    from PIL import Image

    from deepedge.runtime.captioner import prepare_image

    rgba = np.zeros((30, 50, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :25, 3] = 255  # left half opaque red, right half transparent (white)
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    out = prepare_image(tmp_path / "rgba.png", 64)
    assert out.shape == (64, 64, 3) and out.dtype == np.float32
    assert out[32, 5].tolist() == [200.0, 0.0, 0.0] and out[32, 60].tolist() == [255.0, 255.0, 255.0]
    Image.fromarray(np.full((10, 10), 128, np.uint8)).save(tmp_path / "grey.png")
    assert prepare_image(tmp_path / "grey.png", 16).tolist() == np.full((16, 16, 3), 128.0).tolist()
    np.testing.assert_allclose(prepare_image(np.ones((64, 64, 3)) * 0.5, 64), 127.5)  # floats in 0-1
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "empty.png").write_bytes(b"")
    for name in ("broken.png", "empty.png"):
        with pytest.raises(InvalidInputError, match="not a readable image"):
            prepare_image(tmp_path / name, 64)
    with pytest.raises(InvalidInputError, match="No image file"):
        prepare_image(tmp_path / "missing.png", 64)
    with pytest.raises(InvalidInputError, match="NaN"):
        prepare_image(np.full((8, 8, 3), np.nan), 64)
    with pytest.raises(InvalidInputError, match="Expected an image"):
        prepare_image(np.zeros((8, 8, 2)), 64)


def test_bad_images_give_clear_errors(caption_data):
    train, _ = caption_data
    model = tiny_captioner(train)
    with pytest.raises(InvalidInputError, match=r"shape \(batch, 48, 48, 3\)"):
        model.caption(np.zeros((1, 64, 64, 3)))
    with pytest.raises(InvalidInputError, match="dtype"):
        model.caption(np.array([["a"]]))


@pytest.mark.slow
def test_encoder_pretraining_teaches_the_grid_to_name_objects_and_resumes(caption_data):
    """The recipes' first stage (`recipes.pretrain_encoder`): the encoder trains on the object
    maps, its weights reach the captioner, a fixed encoder stays fixed, and a second call finds
    the finished run under the cache instead of training again."""
    from deepedge.apps.captioning.recipes import pretrain_encoder
    from deepedge.backend import keras
    from deepedge.data.captions import object_maps

    train, test = caption_data
    keras.utils.set_random_seed(0)
    model = tiny_captioner(train)
    model.encoder.trainable = False
    before = [w.copy() for w in model.encoder.get_weights()]
    recipe = {"encoder_epochs": 2, "seed": 0, "batch_size": 32, "learning_rate": 3e-3, "weight_decay": 0.0,
              "clipnorm": 1.0}
    report = pretrain_encoder(model, train, train.take(100), recipe, verbose=False)
    assert report["epochs"] == 2 and 0 <= report["validation"]["val_kinds_accuracy"] <= 1
    after = model.encoder.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    assert model.encoder.trainable is False  # restored for the captioner
    again = tiny_captioner(train)
    assert pretrain_encoder(again, train, train.take(100), recipe, verbose=False)["seconds"] == report["seconds"]
    for a, b in zip(after, again.encoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert pretrain_encoder(model, train, train, {**recipe, "encoder_epochs": 0}) is None
    assert object_maps(test, model.grid_shape).shape == (len(test), *model.grid_shape, 2)


def test_xu_style_attention_steps_as_it_trains_and_round_trips(caption_data, tmp_path):
    """Xu et al.'s decoder (the previous state queries the grid, the context enters the LSTM):
    the step the device runs gives the teacher-forced logits, and the file loads the same."""
    from deepedge.apps.captioning.captioner import Captioner
    from deepedge.errors import InvalidInputError

    train, test = caption_data
    model = tiny_captioner(train)
    xu = Captioner(model.tokenizer, image_size=48, encoder=TINY_ENCODER, embedding_dim=16, units=32, attention_units=16,
                   dropout=0.0, attention_style="xu")
    (images, tokens_in), _ = xu.teacher_forcing_data(test.images[:2], ["a red shoe", "two dogs on grass"])
    logits = np.asarray(xu([images, tokens_in]))
    step, state = xu.start(images.astype(np.float32), 2)
    for t in range(4):
        step_logits, state = step(tokens_in[:, t], state)
        np.testing.assert_allclose(step_logits, logits[:, t], atol=1e-4)
    assert len(xu.last_attention) == 4 and xu.last_attention[0].shape == (2, 36)
    xu.save(tmp_path / "xu.keras")
    loaded = Captioner.load(tmp_path / "xu.keras")
    assert loaded.attention_style == "xu"
    np.testing.assert_allclose(np.asarray(loaded([images, tokens_in])), logits, atol=1e-5)
    with pytest.raises(InvalidInputError, match="attention_style"):
        Captioner(model.tokenizer, image_size=48, encoder=TINY_ENCODER, attention_style="bahdanau")


def test_word_dropout_hides_the_words_read_in_training_only(caption_data, tmp_path):
    """Word dropout replaces the words the decoder reads (never its first token) by the
    unknown token in training; prediction reads every word; the setting is saved."""
    from deepedge.apps.captioning.captioner import Captioner

    train, test = caption_data
    tokenizer = tiny_captioner(train).tokenizer
    kwargs = dict(image_size=48, encoder=TINY_ENCODER, embedding_dim=16, units=32, attention_units=16, dropout=0.0,
                  train_encoder=False)  # (a fixed encoder: its batch norm reads the same in training)
    model = Captioner(tokenizer, word_dropout=0.9, **kwargs)
    (images, tokens_in), _ = model.teacher_forcing_data(test.images[:4], ["a red shoe on grass"] * 4)
    hidden = tokens_in.copy()
    hidden[:, 1:] = tokenizer.unknown_id
    inference = np.asarray(model([images, tokens_in]))
    trained = np.stack([np.asarray(model([images, tokens_in], training=True)) for _ in range(20)])
    blind = np.asarray(model([images, hidden]))
    np.testing.assert_allclose(trained[:, :, 0], np.broadcast_to(inference[:, 0], trained[:, :, 0].shape), atol=1e-5)
    # a step whose word was dropped reads as the unknown token; about 90% of them are
    as_unknown = np.all(np.isclose(trained[:, :, 1], blind[None, :, 1], atol=1e-5), axis=-1)
    assert 0.75 < as_unknown.mean() < 1.0
    assert not np.allclose(inference[:, 1], blind[:, 1], atol=1e-5)
    model.save(tmp_path / "wd.keras")
    assert Captioner.load(tmp_path / "wd.keras").word_dropout == 0.9
    with pytest.raises(InvalidInputError, match="word_dropout"):
        Captioner(tokenizer, word_dropout=1.0, **kwargs)
