"""A multi-replica run on a machine without GPUs: the CPU split into logical devices
(`split_cpu`, `deepedge train --cpu-replicas N`) runs MirroredStrategy's path as it runs over
several GPUs, mixed float16 and its loss scaling included."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from deepedge.errors import DistributionError
from deepedge.training.distribute import split_cpu

# Mirrored over two CPU replicas against one device with the same global batch, on real
# Fashion-MNIST images: equal weights (the all-reduce sums the replicas' shares of one batch).
# Then mixed float16 under the same strategy: loss scaling, a falling loss.
MIRRORED = textwrap.dedent("""
    import json
    from deepedge.training.distribute import Distribution

    mirrored = Distribution("mirrored", precision="float32", cpu_replicas=2)
    import numpy as np
    from deepedge.backend import keras
    from deepedge.data import load_fashion_mnist
    from deepedge.training import fit_resumable, seed_everything

    train = load_fashion_mnist("train").take(512)

    def trained(distribution, recipe, tag):
        seed_everything(5)
        with distribution.scope(recipe):
            model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255),
                                      keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(),
                                      keras.layers.Flatten(), keras.layers.Dense(10, dtype="float32")])
            model.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"]),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model, history = fit_resumable(model, train.images, train.labels, epochs=2, checkpoint_dir={ckpt!r} + tag,
                                       batch_size=recipe["batch_size"], seed=5, verbose=False)
        return model, history

    recipe = {{"batch_size": 32, "learning_rate": 1e-3}}  # per replica, as the recipes give it
    two, _ = trained(mirrored, mirrored.scale(recipe), "two")
    one, _ = trained(Distribution("default", precision="float32"), {{"batch_size": 64, "learning_rate": 2e-3}}, "one")
    difference = max(float(np.abs(a - b).max()) for a, b in zip(two.get_weights(), one.get_weights()))
    half = Distribution("mirrored", precision="mixed_float16", cpu_replicas=2)
    model, history = trained(half, half.scale(recipe), "half")
    print("RESULT", json.dumps({{
        "replicas": mirrored.replicas, "record": mirrored.record(two, mirrored.scale(recipe)),
        "difference": difference, "half_optimizer": type(model.optimizer).__name__,
        "half_policy": model.dtype_policy.name, "half_loss": history["loss"]}}))
""")


def _run(args, timeout=300, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    process = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert process.returncode == 0, process.stderr[-3000:]
    return process.stdout


@pytest.mark.slow
def test_two_cpu_replicas_train_as_one_device_with_their_global_batch(tmp_path):
    out = _run([sys.executable, "-c", MIRRORED.format(ckpt=str(tmp_path / "ckpt_"))])
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT"))[len("RESULT"):])
    assert result["replicas"] == 2
    record = result["record"]
    assert (record["strategy"], record["device"], record["replicas"]) == ("mirrored", "CPU", 2)
    assert (record["per_replica_batch_size"], record["global_batch_size"]) == (32, 64)
    assert record["learning_rate"] == pytest.approx(2e-3)
    assert result["difference"] < 1e-5  # the same training, the batch's sum taken in two parts
    # GPU-style mixed precision: float16 compute, float32 weights, a loss-scaling optimizer
    assert result["half_policy"] == "mixed_float16"
    assert result["half_optimizer"] == "LossScaleOptimizer"
    assert all(np.isfinite(result["half_loss"])) and result["half_loss"][1] < result["half_loss"][0]


@pytest.mark.slow
def test_deepedge_train_on_cpu_replicas_records_them_and_saves_float32(tmp_path):
    out_dir = tmp_path / "lenet"
    _run([sys.executable, "-m", "deepedge.cli", "train", "fashion_lenet5", "--strategy", "mirrored", "--cpu-replicas",
          "2", "--precision", "mixed_float16", "--epochs", "1", "--limit", "1024", "--no-export", "--out",
          str(out_dir)], cwd=tmp_path)
    record = json.loads((out_dir / "training.json").read_text())["distribution"]
    assert (record["strategy"], record["device"], record["replicas"]) == ("mirrored", "CPU", 2)
    assert record["precision"] == "mixed_float16"
    assert record["global_batch_size"] == 2 * record["per_replica_batch_size"]
    script = ("import numpy as np; from deepedge.apps import ImageClassifier; "
              f"m = ImageClassifier.load({str(out_dir / 'model.keras')!r}); "
              "print('DTYPES', sorted({w.dtype.name for w in m.get_weights()}))")
    assert "DTYPES ['float32']" in _run([sys.executable, "-c", script])


def test_the_cpu_splits_only_before_tensorflow_starts_and_into_whole_replicas():
    from deepedge.backend import tf

    tf.config.list_logical_devices("CPU")  # TensorFlow has started in this process
    with pytest.raises(DistributionError, match="already started.*--cpu-replicas"):
        split_cpu(3)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(DistributionError, match="whole number of replicas"):
            split_cpu(bad)
