"""deepedge.training.multi_worker: two real worker processes on loopback (TF_CONFIG), one of
them killed after epoch 2 and the job started again, resume from the chief's checkpoint and end
with identical weights that match one process trained with `fit` on the same global batch."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

# A small dense net on 300 real Fashion-MNIST images (the last global batch is partial), with
# the parts the loop must reduce correctly: an L2 penalty, clipped gradients, sample weights.
JOB = textwrap.dedent("""
    import os, signal, sys
    from deepedge.training.distribute import Distribution

    distribution = Distribution("multi-worker" if os.environ.get("TF_CONFIG") else "default")
    import numpy as np
    from deepedge.backend import keras, tf
    from deepedge.data import load_fashion_mnist
    from deepedge.training import fit_resumable, ordered_batches, seed_everything

    seed_everything(3)
    train, validation = load_fashion_mnist("train").take(300), load_fashion_mnist("validation").take(200)
    with distribution.scope({{}}):
        penalty = keras.regularizers.L2(1e-3)
        model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                                  keras.layers.Dense(32, activation="relu", kernel_regularizer=penalty),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.AdamW(3e-3, clipnorm=0.5),
                      loss=keras.losses.SparseCategoricalCrossentropy(),
                      metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])

    def weighted_batches(x, y, size, rng):
        if rng is None:
            return ordered_batches(x, y, size)
        weights = np.where(y % 2 == 0, 1.0, 0.5).astype(np.float32)  # even classes count double
        return tf.data.Dataset.from_tensor_slices((x, y, weights)).batch(size)

    def maybe_die(epoch, logs):
        if epoch + 1 == {kill_after}:
            os.kill(os.getpid(), signal.SIGKILL)

    model, history = fit_resumable(model, train.images, train.labels, epochs=4, checkpoint_dir={ckpt!r},
                                   batch_size=64, seed=3, batches=weighted_batches,
                                   validation_data=(validation.images, validation.labels), verbose=False,
                                   on_epoch_end=maybe_die)
    np.save({out!r}, np.concatenate([w.ravel() for w in model.get_weights()]))
    print("HISTORY", __import__("json").dumps(history))
""")


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start(tmp_path, name, index=None, ports=None, kill_after=None, ckpt=None):
    """One process of a job: a worker of `ports`' cluster, or alone without TF_CONFIG."""
    env = dict(os.environ)
    env.pop("TF_CONFIG", None)
    if ports is not None:
        env["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                                       "task": {"type": "worker", "index": index}})
    script = JOB.format(kill_after=kill_after, ckpt=str(tmp_path / (ckpt or f"ckpt_{name}")),
                        out=str(tmp_path / f"{name}.npy"))
    return subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process, timeout=240):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return json.loads(next(line for line in out.splitlines() if line.startswith("HISTORY"))[len("HISTORY"):])


@pytest.mark.slow
def test_two_workers_killed_and_restarted_match_one_worker(tmp_path):
    killed_ports = _free_ports(2)
    killed = [_start(tmp_path, f"killed{i}", i, killed_ports, kill_after=2 if i == 1 else None, ckpt="ckpt_job")
              for i in range(2)]
    alone = _start(tmp_path, "alone")  # one process, `fit`, the same global batch, never stopped
    alone_history = _finish(alone)
    killed[1].wait(timeout=240)
    assert killed[1].returncode == -9
    try:  # the chief cannot go on without its peer: it fails, saying so
        _, err = killed[0].communicate(timeout=90)
    except subprocess.TimeoutExpired:
        killed[0].kill()
        _, err = killed[0].communicate()
    assert killed[0].returncode == 1 and "A worker of the job stopped" in err, err[-3000:]
    state = json.loads((tmp_path / "ckpt_job" / "state.json").read_text())
    assert state["epoch"] == 2  # written by the chief alone

    resumed_ports = _free_ports(2)
    resumed = [_start(tmp_path, f"resumed{i}", i, resumed_ports, ckpt="ckpt_job") for i in range(2)]
    histories = [_finish(p) for p in resumed]

    weights = [np.load(tmp_path / f"resumed{i}.npy") for i in range(2)]
    np.testing.assert_array_equal(weights[0], weights[1])
    # The same training as one process with fit, the sums taken in another order.
    np.testing.assert_allclose(weights[0], np.load(tmp_path / "alone.npy"), atol=2e-5)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert histories[0][key] == histories[1][key], key
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(histories[0][key], alone_history[key], rtol=1e-4)
    np.testing.assert_allclose(histories[0]["accuracy"], alone_history["accuracy"], atol=1e-6)
    assert sorted(p.name for p in (tmp_path / "ckpt_job").iterdir()) == ["epoch_004.keras", "state.json"]
