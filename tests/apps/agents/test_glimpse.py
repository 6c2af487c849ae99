"""deepedge.apps.agents.glimpse_agent, deepedge.layers.glimpse, deepedge.ops.glimpse, the canvases and
the on-device glimpse agent: the retina reads the same pixels in Keras and numpy, REINFORCE moves
the policy towards rewarded glimpses, training learns, and the int8 step-wise export agrees."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError


def test_keras_retina_reads_what_the_numpy_retina_reads():
    from deepedge.layers.glimpse import GlimpseSensor
    from deepedge.ops.glimpse import retina

    rng = np.random.default_rng(0)
    images = rng.random((6, 60, 44, 1)).astype(np.float32)  # not square
    locations = rng.uniform(-1.3, 1.3, (6, 2)).astype(np.float32)
    locations[:3] = [[-1, -1], [1, 1], [0, 0]]  # corners read zeros outside the image
    expected = retina(images, locations, glimpse_size=8, scales=3)
    np.testing.assert_allclose(np.asarray(GlimpseSensor(8, 3)(images, locations)), expected, atol=1e-6)
    # The sharpest patch at the centre is the image's own pixels; the coarser ones are averages.
    np.testing.assert_allclose(expected[2, 0], images[2, 26:34, 18:26, 0])
    np.testing.assert_allclose(expected[2, 1, 0, 0], images[2, 22:24, 14:16, 0].mean(), rtol=1e-6)
    assert expected[0, 0, :4, :4].sum() == 0 and expected[0, 0, 4:, 4:].sum() > 0  # the corner (0, 0)
    with pytest.raises(InvalidInputError, match="locations"):
        retina(images, locations[:2])


def test_canvases_hold_their_object_where_the_box_says_and_are_fixed():
    from deepedge.data.glimpses import compose_canvases

    rng = np.random.default_rng(1)
    objects = rng.integers(1, 255, (20, 28, 28), dtype=np.uint8)
    canvases, boxes = compose_canvases(objects, 60, 4, np.random.default_rng(3))
    assert canvases.shape == (20, 60, 60, 1) and canvases.dtype == np.uint8
    for canvas, box, obj in zip(canvases[..., 0], boxes, objects):
        top, left, bottom, right = box
        assert 0 <= top and bottom <= 60 and bottom - top == 28 and right - left == 28
        assert np.all(canvas[top:bottom, left:right] >= obj)  # clutter merges by the maximum
    again, _ = compose_canvases(objects, 60, 4, np.random.default_rng(3))
    np.testing.assert_array_equal(canvases, again)
    plain, boxes = compose_canvases(objects, 60, 0, np.random.default_rng(3))
    assert int((plain > 0).sum()) == 20 * 28 * 28  # nothing but the objects
    with pytest.raises(InvalidInputError, match="whole object"):
        compose_canvases(objects, 20, 0, rng)
    with pytest.raises(InvalidInputError, match="uint8"):
        compose_canvases(objects.astype(np.float32), 60, 0, rng)


def tiny_agent(seed=0, canvas=40, **kwargs):
    from deepedge.apps.agents.glimpse_agent import GlimpseAgent
    from deepedge.backend import keras

    keras.utils.set_random_seed(seed)
    config = {"glimpses": 3, "glimpse_size": 8, "scales": 2, "glimpse_units": 16, "core_units": 32, **kwargs}
    agent = GlimpseAgent(num_classes=10, **config)
    agent.build((None, canvas, canvas, 1))
    return agent


def test_clutter_curriculum_grows_the_clutter_then_draws_the_recipes_canvases():
    from deepedge.apps.agents.glimpse_recipes import canvas_epochs
    from deepedge.data.glimpses import load_objects

    objects = load_objects("mnist", "test").take(64)
    own = int(np.count_nonzero(objects.images))  # every object's lit pixels, on whichever canvas it lands

    def draw(epoch_data, epoch):
        return epoch_data(np.random.default_rng([5, epoch]), epoch)

    curriculum, plain = canvas_epochs(objects, 60, 4, curriculum_epochs=4), canvas_epochs(objects, 60, 4)
    clutter = [int(np.count_nonzero(draw(curriculum, epoch)[0])) - own for epoch in range(4)]
    assert clutter[0] == 0 and clutter[0] < clutter[1] < clutter[2] < clutter[3]  # none at first, then more
    for epoch in (4, 6):  # after the curriculum: the very canvases of the recipe without one
        (a, labels_a), (b, labels_b) = draw(curriculum, epoch), draw(plain, epoch)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(labels_a, labels_b)


def test_reinforce_moves_the_policy_towards_rewarded_locations():
    from deepedge.backend import keras, tf

    agent = tiny_agent()
    mean = tf.Variable(np.zeros((4, 1, 2), np.float32))
    sampled = np.array([[[0.5, -0.5]]] * 4, np.float32)
    probabilities = np.eye(10, dtype=np.float32)[[1, 1, 2, 2]] * 0.9 + 0.01  # rows 0, 1 right, 2, 3 wrong
    labels = np.array([1, 1, 1, 1])
    with tf.GradientTape() as tape:
        log_pis = -keras.ops.sum(keras.ops.square(sampled - mean), axis=-1) / (2 * agent.location_std ** 2)
        loss, reward = agent.hybrid_loss(labels, probabilities, log_pis, np.zeros((4, 1), np.float32))
    gradient = tape.gradient(loss, mean).numpy()
    np.testing.assert_array_equal(reward.numpy(), [1, 1, 0, 0])
    step = -gradient[:2, 0]  # gradient descent moves the rewarded rows' means towards where they looked
    assert np.all(np.sign(step) == np.sign(sampled[0, 0])) and np.all(gradient[2:] == 0)


def test_cost_per_image_does_not_grow_with_the_canvas():
    agent = tiny_agent()
    g, s, u, k = 8, 2, 16, 32
    per_step = s * g * g * u + 2 * u + 2 * u * k + 8 * k * k + 2 * k + g * g * (1 + 4)
    assert agent.multiply_accumulates() == 3 * per_step + k * 10
    big = tiny_agent()
    big.build((None, 100, 100, 1))
    assert big.multiply_accumulates() == agent.multiply_accumulates()


@pytest.mark.slow
def test_agent_learns_translated_digits_and_its_int8_steps_run_on_device(tmp_path):
    from deepedge.backend import keras
    from deepedge.data.glimpses import load_canvases
    from deepedge.edge import load
    from deepedge.export.exporter import export

    train = load_canvases("mnist_translated_60", "train").take(4000)
    test = load_canvases("mnist_translated_60", "test").take(200)
    agent = tiny_agent(glimpses=4, glimpse_size=12, scales=3, glimpse_units=64, core_units=64)
    agent.compile(optimizer=keras.optimizers.Adam(3e-3, clipnorm=1.0))
    agent.fit(train.images.astype(np.float32), train.labels, batch_size=64, epochs=3, verbose=0)
    accuracy = agent.evaluate_metric(test)
    assert accuracy > 0.25, accuracy  # chance is 0.1; 3 short epochs, where the recipes train 40
    meta = export(agent, tmp_path / "agent", calibration_data=train, evaluation_data=test, force=True)
    assert set(meta["signatures"]) == {"step"} and meta["metrics"]["examples"] == 200
    assert abs(meta["metrics"]["litert_int8"] - accuracy) <= 0.05
    device = load(tmp_path / "agent")
    probabilities, path = device.look(test.images[0])
    assert probabilities.shape == (10,) and abs(probabilities.sum() - 1) < 0.05 and path.shape == (4, 2)
    np.testing.assert_allclose(path, agent.glimpse_path(test.images[:1])[0], atol=0.1)
    for bad, match in ((np.zeros((2, 3, 4, 5)), "grey images"), (np.full((60, 60), np.nan), "NaN"),
                       (np.array([["a"]]), "numeric")):
        with pytest.raises(InvalidInputError, match=match):
            device.predict(bad)


def test_glimpse_frames_draw_each_glimpse_and_the_gif_is_written(tmp_path):
    from PIL import Image

    from deepedge.apps.agents.play import glimpse_frames, save_gif

    canvas = np.zeros((60, 60), np.uint8)
    frames = glimpse_frames(canvas, [[0, 0], [0.5, -0.5], [-1, 1]], glimpse_size=8, scales=2, label="7", zoom=2)
    assert len(frames) == 3 and frames[0].size == (120, 120)
    first = np.asarray(frames[0])
    assert tuple(first[60 - 8, 60]) == (255, 64, 64)  # the sharp square's top edge around the centre
    path = save_gif(frames, tmp_path / "play.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.info["loop"] == 0


def test_convolutional_glimpse_network_saves_whole_counts_its_cost_and_runs_step_wise(tmp_path):
    from deepedge.backend import keras
    from deepedge.data.glimpses import load_canvases
    from deepedge.edge import load
    from deepedge.export.exporter import export

    agent = tiny_agent(glimpse_filters=(4, 8))
    # a model in training (its baseline included) saves and loads whole, so a run resumes
    assert len(agent.get_weights()) == 19
    agent.save(tmp_path / "agent.keras")
    again = keras.saving.load_model(tmp_path / "agent.keras", safe_mode=True)
    for a, b in zip(agent.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    g, s, u, k = 8, 2, 16, 32
    convolutions = 6 * 6 * 4 * 9 * s + 2 * 2 * 8 * 9 * 4  # 8x8 -> 6x6 (stride 1) -> 2x2 (stride 2)
    per_step = convolutions + 2 * 2 * 8 * u + 2 * u + 2 * u * k + 8 * k * k + 2 * k + g * g * (1 + 4)
    assert agent.multiply_accumulates() == 3 * per_step + k * 10
    test = load_canvases("mnist_translated_60", "test").take(8)
    export(agent, tmp_path / "edge", quantization="float32", evaluation_data=test)
    probabilities, path = load(tmp_path / "edge").look(test.images[0])
    np.testing.assert_allclose(probabilities, agent.predict(test.images[:1], verbose=0)[0], atol=1e-4)
    np.testing.assert_allclose(path, agent.glimpse_path(test.images[:1])[0], atol=1e-4)


def test_saliency_locator_moves_within_the_coarse_patch_and_runs_step_wise_on_any_canvas(tmp_path):
    from deepedge.backend import keras
    from deepedge.data.glimpses import load_canvases
    from deepedge.edge import load
    from deepedge.export.exporter import export

    agent = tiny_agent(seed=3, canvas=60, locator="saliency", glimpse_filters=(4, 8))
    test = load_canvases("mnist_cluttered_60", "test").take(8)
    # the next location is the current one moved at most to the coarsest patch's outer cells
    path = agent.glimpse_path(test.images)
    reach = (8 * 2 - 2) / 2 * 2 / 60  # the outermost cell's centre, 7 pixels out of 60, in location units
    assert np.all(np.abs(np.diff(path, axis=1)) <= reach + 1e-6) and np.abs(np.diff(path, axis=1)).max() > 0
    g, s, u, k = 8, 2, 16, 32
    convolutions = 6 * 6 * 4 * 9 * s + 2 * 2 * 8 * 9 * 4
    per_step = convolutions + 2 * 2 * 8 * u + 2 * u + 2 * u * k + 8 * k * k + g * g * (16 * 9 + 16 + k + 2) + g * g * 5
    assert agent.multiply_accumulates() == 3 * per_step + k * 10
    agent.save(tmp_path / "agent.keras")
    again = keras.saving.load_model(tmp_path / "agent.keras", safe_mode=True)
    np.testing.assert_array_equal(again.glimpse_path(test.images), path)
    export(agent, tmp_path / "edge", quantization="float32", evaluation_data=test)
    device = load(tmp_path / "edge")
    assert device.metadata["canvas"] == [60, 60]  # the canvas whose pixels its moves are measured in
    probabilities, on_device = device.look(test.images[0])
    np.testing.assert_allclose(probabilities, agent.predict(test.images[:1], verbose=0)[0], atol=1e-4)
    np.testing.assert_allclose(on_device, path[0], atol=1e-4)
    # another canvas size: the device rescales the step's moves to the same pixels as Keras
    small = test.images[:1, 10:50, 10:50]
    np.testing.assert_allclose(device.look(small[0])[1], agent.glimpse_path(small)[0], atol=1e-3)
