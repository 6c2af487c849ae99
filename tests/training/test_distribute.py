"""deepedge.training.distribute and the multi-worker loop's arithmetic, in one process: the
strategy names, TF_CONFIG's checks, the scaling rule, the training record, and the loop's
loss reduction against `fit` (the two-process test is test_multi_worker.py)."""

import json

import numpy as np
import pytest

from deepedge.backend import keras, tf
from deepedge.errors import DistributionError
from deepedge.training.distribute import (SCALING_RULE, Distribution, read_tf_config, scale_recipe, strategy_for,
                                          strategy_kind)
from deepedge.training.multi_worker import StrategyLoop, check_trainable


def test_auto_and_default_are_one_device_on_this_cpu():
    for name in ("auto", "default"):
        strategy = strategy_for(name)
        assert strategy is tf.distribute.get_strategy() and strategy.num_replicas_in_sync == 1
        assert strategy_kind(strategy) == "default"


def test_unknown_strategy_and_missing_tpu_are_errors():
    with pytest.raises(DistributionError, match=r"Expected one of .*'multi-worker'.* Received: strategy='gpus'"):
        strategy_for("gpus")
    with pytest.raises(DistributionError, match="found no TPU"):
        strategy_for("tpu")


@pytest.mark.parametrize("value, expected", [
    (None, "not set"),
    ("{cluster: 1}", "not JSON"),
    ('{"cluster": {"worker": "localhost:1"}, "task": {"type": "worker", "index": 0}}', "lists of 'host:port'"),
    ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "'worker'"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}', "'task' must name"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}}', "'task' must name"),
])
def test_a_bad_tf_config_says_what_it_received_and_what_to_set(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(DistributionError, match=expected) as error:
        strategy_for("multi-worker")
    assert f"Received: TF_CONFIG={value!r}" in str(error.value) and "Set TF_CONFIG on every machine" in str(error.value)


def test_tf_config_names_the_cluster_and_this_task():
    config = {"cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"]}, "task": {"type": "worker", "index": 1}}
    cluster, kind, index = read_tf_config({"TF_CONFIG": json.dumps(config)})
    assert cluster == config["cluster"] and (kind, index) == ("worker", 1)


def test_the_scaling_rule_multiplies_batch_and_learning_rate_by_the_replicas():
    recipe = {"batch_size": 64, "learning_rate": 2e-3, "epochs": 20}
    assert scale_recipe(recipe, 1) == recipe
    assert scale_recipe(recipe, 8) == {"batch_size": 512, "learning_rate": 0.016, "epochs": 20}
    assert recipe["batch_size"] == 64  # not changed in place
    with pytest.raises(DistributionError, match="replicas=0"):
        scale_recipe(recipe, 0)


def _classifier():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])


def test_the_training_record_and_the_precision_scope():
    distribution = Distribution("default", precision="mixed_bfloat16", jit_compile=False)
    recipe = distribution.scale({"batch_size": 32, "learning_rate": 1e-3, "precision": "float32"})
    with distribution.scope(recipe):
        model = _classifier()
        model.compile(loss="sparse_categorical_crossentropy", **distribution.compile_options)
    assert keras.config.dtype_policy().name == "float32"  # restored
    assert model.layers[0].dtype_policy.name == "mixed_bfloat16"
    assert distribution.record(model, recipe) == {
        "strategy": "default", "requested": "default", "device": "CPU", "replicas": 1, "workers": 1,
        "precision": "mixed_bfloat16", "jit_compile": False, "per_replica_batch_size": 32, "global_batch_size": 32,
        "learning_rate": 1e-3, "scaling_rule": SCALING_RULE}
    assert Distribution().policy({}) == "float32" and Distribution().is_chief
    with pytest.raises(DistributionError, match="precision='half'"):
        Distribution(precision="half")


@pytest.fixture
def op_determinism():
    """Yields a setter for TensorFlow's process-wide op determinism (seed_everything turns it on,
    so earlier tests leave it on) and restores the state it found."""
    from tensorflow.python.framework import config  # disable_op_determinism has no public name

    before = config.is_op_determinism_enabled()

    def set_to(enabled):
        (config.enable_op_determinism if enabled else config.disable_op_determinism)()

    yield set_to
    set_to(before)


def test_auto_precision_takes_the_recipes_mixed_bfloat16_only_where_the_cpu_computes_in_it(monkeypatch):
    import deepedge.training.distribute as distribute

    recipe = {"precision": "mixed_bfloat16"}  # the language models' recipes
    monkeypatch.setattr(distribute, "cpu_has_bfloat16", lambda: True)  # AMX or AVX-512 BF16
    assert Distribution().policy(recipe) == "mixed_bfloat16"
    monkeypatch.setattr(distribute, "cpu_has_bfloat16", lambda: False)  # where it measured slower
    assert Distribution().policy(recipe) == "float32"
    assert Distribution(precision="mixed_bfloat16").policy(recipe) == "mixed_bfloat16"  # asked for: given


def test_the_record_says_what_the_model_was_built_and_compiled_with(op_determinism):
    recipe = {"batch_size": 8, "learning_rate": 1e-3}
    # None is Keras's "auto": no XLA on a CPU. Keras also turns XLA off when ops are deterministic
    # (seed_everything), and the record says what the model does, not what was asked.
    for deterministic, jit_compile, expected in ((False, True, True), (False, None, False), (True, True, False)):
        op_determinism(deterministic)
        distribution = Distribution("default", precision="float32", jit_compile=jit_compile)
        with distribution.scope(recipe):
            model = _classifier()
            model.compile(loss="sparse_categorical_crossentropy", **distribution.compile_options)
        assert distribution.record(model, recipe)["jit_compile"] is expected
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = _classifier()  # built under another policy than the distribution's
    finally:
        keras.config.set_dtype_policy("float32")
    assert Distribution().record(model, recipe)["precision"] == "mixed_bfloat16"


def _fit_and_loop(build, batches):
    """Weights after one epoch of `fit` and of `StrategyLoop` (default strategy) from the same start."""
    results = []
    for use_loop in (False, True):
        keras.utils.set_random_seed(5)
        model = build()
        if use_loop:
            logs = StrategyLoop(model, tf.distribute.get_strategy()).run_epoch(batches(), validation=batches())
        else:
            history = model.fit(batches(), validation_data=batches(), shuffle=False, verbose=0).history
            logs = {k: v[-1] for k, v in history.items()}
        results.append((np.concatenate([w.ravel() for w in model.get_weights()]), logs))
    return results


def test_the_loop_reduces_two_outputs_with_ignored_labels_as_fit_does():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 6)).astype(np.float32)
    kinds, colours = rng.integers(0, 3, 50), np.where(rng.random(50) < 0.4, -1, rng.integers(0, 2, 50))

    def build():
        inputs = keras.Input((6,))
        hidden = keras.layers.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.L2(0.01))(inputs)
        model = keras.Model(inputs, [keras.layers.Dense(3)(hidden), keras.layers.Dense(2)(hidden)])
        model.compile(optimizer=keras.optimizers.AdamW(0.05, global_clipnorm=0.1),
                      loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                            keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)])
        return model

    def batches():
        return tf.data.Dataset.from_tensor_slices((x, (kinds, colours))).batch(16)

    (fit_weights, fit_logs), (loop_weights, loop_logs) = _fit_and_loop(build, batches)
    np.testing.assert_allclose(loop_weights, fit_weights, atol=1e-6)
    assert loop_logs["loss"] == pytest.approx(fit_logs["loss"], rel=1e-5)
    assert loop_logs["val_loss"] == pytest.approx(fit_logs["val_loss"], rel=1e-5)


def test_the_loop_reduces_weighted_sequences_as_fit_does():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 20, (40, 5))  # token ids: the embedding's gradients are sparse (IndexedSlices)
    y = rng.integers(0, 4, (40, 5))
    weights = (rng.random((40, 5)) < 0.7).astype(np.float32)

    def build():
        model = keras.Sequential([keras.Input((5,), dtype="int32"), keras.layers.Embedding(20, 3),
                                  keras.layers.Dense(4)])
        model.compile(optimizer=keras.optimizers.SGD(0.5, clipnorm=0.05),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
        return model

    def batches():
        return tf.data.Dataset.from_tensor_slices((x, y, weights)).batch(12)

    (fit_weights, fit_logs), (loop_weights, loop_logs) = _fit_and_loop(build, batches)
    np.testing.assert_allclose(loop_weights, fit_weights, atol=1e-6)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert loop_logs[key] == pytest.approx(fit_logs[key], rel=1e-5), key


def test_a_model_with_its_own_train_step_is_refused():
    class OwnStep(keras.Sequential):
        def train_step(self, data):
            return {}

    model = OwnStep([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(loss="mse")
    with pytest.raises(DistributionError, match="own `train_step`.*--strategy auto, default or mirrored"):
        check_trainable(model)


def test_a_loop_that_cannot_spread_refuses_a_strategy_asked_for_but_takes_auto():
    Distribution("default").check_supported("The replay loop", ("default",))
    Distribution("auto").check_supported("The replay loop", ("mirrored",))  # auto: whatever the loop can use
    with pytest.raises(DistributionError, match=r"The replay loop trains with --strategy mirrored only\. "
                                                r"Received: --strategy default \(default, 1 replica\)"):
        Distribution("default").check_supported("The replay loop", ("mirrored",))
