"""Where a recipe trains: the tf.distribute strategy, the scaling rule, precision and XLA.

A `Distribution` is chosen once (`deepedge train NAME --strategy ... --precision ...
--jit-compile`) and handed to a recipe, which scales its recipe by the rule below, builds and
compiles its model inside `distribution.scope(recipe)`, calls `fit_resumable` outside it (with
a multi-worker strategy that runs the strategy-aware loop of `deepedge.training.multi_worker`,
since Keras 3's `fit` fails there) and records `distribution.record(model, recipe)` in its
`training.json`.

Scaling rule (linear scaling with warm-up, Goyal et al. 2017, "Accurate, Large Minibatch SGD"):
a recipe's `batch_size` is the batch of one replica and its `learning_rate` the rate for that
batch. With R replicas (devices over all workers) the global batch is `batch_size x R` and the
learning rate `learning_rate x R`; the recipes' first epoch of linear warm-up
(`build_optimizer`) keeps the larger rate stable. One replica changes nothing, so a run on one
device reproduces the shipped models.
"""

import contextlib
import json
import os
from pathlib import Path

from deepedge.errors import DistributionError

STRATEGIES = ("auto", "default", "mirrored", "multi-worker", "tpu")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
SCALING_RULE = ("global batch = batch_size x replicas; learning rate = learning_rate x replicas "
                "(linear scaling, Goyal et al. 2017, with the recipes' one epoch of warm-up)")
TF_CONFIG_EXAMPLE = ('{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}')
_KINDS = {"MirroredStrategy": "mirrored", "MultiWorkerMirroredStrategy": "multi-worker",
          "CollectiveAllReduceStrategy": "multi-worker", "TPUStrategy": "tpu"}


def read_tf_config(environ=None):
    """The cluster `TF_CONFIG` describes, checked: `(cluster, task_type, task_index)`.

    Raises `DistributionError`, saying what was received and what to set, when `TF_CONFIG` is
    missing, not JSON, or does not name this task within a cluster of `host:port` addresses.
    """
    text = (os.environ if environ is None else environ).get("TF_CONFIG")
    fix = (f"Set TF_CONFIG on every machine to the same cluster and that machine's own task, e.g. "
           f"TF_CONFIG='{TF_CONFIG_EXAMPLE}' (index 1 on the second machine).")
    if not text:
        raise DistributionError(f"--strategy multi-worker reads the cluster from the environment variable "
                                f"TF_CONFIG, which is not set. Received: TF_CONFIG={text!r}. {fix}")
    try:
        config = json.loads(text)
    except ValueError as e:
        raise DistributionError(f"TF_CONFIG is not JSON ({e}). Received: TF_CONFIG={text!r}. {fix}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    jobs_valid = isinstance(cluster, dict) and cluster and all(
        isinstance(hosts, list) and hosts and all(isinstance(h, str) and ":" in h for h in hosts)
        for hosts in cluster.values())
    if not jobs_valid or not ({"worker", "chief"} & set(cluster)):
        raise DistributionError(f"TF_CONFIG's 'cluster' must map 'worker' (and optionally 'chief') to lists of "
                                f"'host:port' addresses. Received: TF_CONFIG={text!r}. {fix}")
    kind = task.get("type") if isinstance(task, dict) else None
    index = task.get("index") if isinstance(task, dict) else None
    if kind not in cluster or not isinstance(index, int) or not 0 <= index < len(cluster[kind]):
        raise DistributionError(f"TF_CONFIG's 'task' must name this machine's job and index in the cluster, "
                                f"e.g. {{\"type\": \"worker\", \"index\": 0}}. Received: TF_CONFIG={text!r}. {fix}")
    return cluster, kind, index


def _tpu_in_sight():
    """Whether this machine shows signs of a Cloud TPU (a TPU VM's devices, or `TPU_NAME` for
    a TPU node), checked before asking the TPU cluster resolver, which may wait on the network."""
    return bool(os.environ.get("TPU_NAME")) or any(Path("/dev").glob("accel[0-9]*")) or any(
        p.name.isdigit() for p in Path("/dev/vfio").glob("*"))


def _tpu_strategy():
    from deepedge.backend import tf

    if not _tpu_in_sight():
        raise DistributionError("--strategy tpu found no TPU: no /dev/accel* or /dev/vfio/N device and no TPU_NAME. "
                                "Run on a Cloud TPU VM (with a TensorFlow build for TPUs), set TPU_NAME to a "
                                "TPU node's name, or choose --strategy auto.")
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ.get("TPU_NAME", "local"))
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise DistributionError(f"The TPU could not be initialised: {e}. Check that TensorFlow was installed "
                                "for TPUs (the tensorflow-cpu build has no TPU support).") from e
    return tf.distribute.TPUStrategy(resolver)


def split_cpu(replicas):
    """Splits this machine's CPU into `replicas` logical devices, so that `MirroredStrategy`
    runs that many replicas on it: a multi-replica run (the scaling rule, the per-replica
    losses, gradient all-reduce, mixed precision's loss scaling) checked on a machine without
    GPUs before it goes to one. It trains no faster: the replicas share the same cores.

    TensorFlow takes this only before it runs anything, so call it first (`deepedge train
    --cpu-replicas N` does); raises `DistributionError` otherwise.
    """
    from deepedge.backend import tf

    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        raise DistributionError(f"The CPU splits into a whole number of replicas, at least 1. "
                                f"Received: cpu_replicas={replicas!r}.")
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if (len(current) if current else 1) == replicas:  # unsplit, the CPU is one device
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    except RuntimeError as e:
        raise DistributionError(f"TensorFlow has already started, so its CPU can no longer be split into {replicas} "
                                f"replicas ({e}). Split it before anything runs on TensorFlow: "
                                "`deepedge train ... --cpu-replicas N`, or `split_cpu(N)` first in the process.") from None


def strategy_for(name="auto", cpu_replicas=None):
    """The `tf.distribute.Strategy` called `name`.

    Args:
        name: str. `"auto"`: a TPUStrategy when a TPU is found, a MirroredStrategy over the
            local GPUs when there are several (or over the CPU's replicas, with
            `cpu_replicas` > 1 and no GPU), else the default strategy (one device).
            `"default"`: one device. `"mirrored"`: MirroredStrategy over all local GPUs (over
            the CPU's logical devices when there is none). `"multi-worker"`:
            MultiWorkerMirroredStrategy over the cluster in `TF_CONFIG` (create it before
            TensorFlow runs anything else). `"tpu"`: TPUStrategy. Defaults to `"auto"`.
        cpu_replicas: int or None. Split the CPU into this many logical devices first
            (`split_cpu`): for `"mirrored"` on a machine without GPUs.
    """
    from deepedge.backend import tf

    if name not in STRATEGIES:
        raise DistributionError(f"Unknown strategy. Expected one of {STRATEGIES}. Received: strategy={name!r}")
    if cpu_replicas is not None:
        split_cpu(cpu_replicas)
    gpus = len(tf.config.list_physical_devices("GPU"))
    if name == "auto":
        if _tpu_in_sight():
            return _tpu_strategy()
        name = "mirrored" if gpus > 1 or (not gpus and (cpu_replicas or 1) > 1) else "default"
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        cpus = [] if gpus else [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(cpus) if len(cpus) > 1 else tf.distribute.MirroredStrategy()
    if name == "tpu":
        return _tpu_strategy()
    read_tf_config()
    return tf.distribute.MultiWorkerMirroredStrategy()


def strategy_kind(strategy):
    """`"default"`, `"mirrored"`, `"multi-worker"` or `"tpu"`: what kind `strategy` is."""
    return next((kind for cls in type(strategy).__mro__ if (kind := _KINDS.get(cls.__name__))), "default")


def is_chief(strategy):
    """Whether this process writes the job's files: always, except on the workers of a
    multi-worker job other than its chief (task `chief`, else worker 0)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if strategy_kind(strategy) != "multi-worker" or resolver is None or resolver.task_type is None:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def scale_recipe(recipe, replicas):
    """`recipe` with `batch_size` and `learning_rate` multiplied by `replicas` (the scaling rule
    in the module's docstring); the same dict's values when `replicas` is 1."""
    if replicas < 1:
        raise DistributionError(f"A strategy needs at least one replica. Received: replicas={replicas}")
    scaled = dict(recipe)
    scaled["batch_size"] = int(recipe["batch_size"]) * replicas
    if "learning_rate" in recipe:
        scaled["learning_rate"] = recipe["learning_rate"] * replicas
    return scaled


def cpu_has_bfloat16():
    """Whether this CPU computes in bfloat16 itself (AVX-512 BF16 or AMX, from /proc/cpuinfo):
    without them mixed bfloat16 only converts, and a step comes slower than in float32 (measured
    here: the LSTM language model's step twice as slow). False where /proc/cpuinfo is missing."""
    from deepedge.machine import cpu_flags

    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


class Distribution:
    """How a recipe trains: the strategy, the precision policy and XLA, chosen once.

    Args:
        strategy: str. One of `STRATEGIES` (see `strategy_for`). Defaults to `"default"`:
            one device, the recipes as shipped.
        precision: str. One of `PRECISIONS`. `"auto"` is `mixed_bfloat16` on TPUs,
            `mixed_float16` on GPUs, and on CPUs the recipe's own `precision` entry (float32
            unless mixed bfloat16 measured faster, as for the language models), but float32 on
            a CPU without bfloat16 instructions (`cpu_has_bfloat16`), where mixed bfloat16 only
            converts and measured slower (`benchmarks/results/training_scale.md`). Defaults to `"auto"`.
        jit_compile: bool or None. XLA for the training step; None is Keras's `"auto"` (XLA on
            GPUs and TPUs where the model supports it, not on CPUs). Defaults to `None`.
        cpu_replicas: int or None. Split the CPU into this many logical devices and train on
            them as replicas (`split_cpu`; with `"mirrored"`, or `"auto"` on a machine
            without GPUs). Defaults to `None`: the CPU is one device.

    Example:
    ```python
    distribution = Distribution("mirrored")
    recipe = distribution.scale(recipe)
    with distribution.scope(recipe):
        model = ImageClassifier.from_preset(...)
        model.compile(optimizer=..., **distribution.compile_options)
    model, history = fit_resumable(model, ..., batch_size=recipe["batch_size"])
    report["distribution"] = distribution.record(model, recipe)
    ```
    """

    def __init__(self, strategy="default", precision="auto", jit_compile=None, cpu_replicas=None):
        if precision not in PRECISIONS:
            raise DistributionError(f"Unknown precision. Expected one of {PRECISIONS}. "
                                    f"Received: precision={precision!r}")
        self.requested = strategy
        self.strategy = strategy_for(strategy, cpu_replicas)
        self.precision = precision
        self.jit_compile = jit_compile

    @property
    def kind(self):
        return strategy_kind(self.strategy)

    @property
    def replicas(self):
        return int(self.strategy.num_replicas_in_sync)

    @property
    def workers(self):
        if self.kind != "multi-worker":
            return 1
        cluster, _, _ = read_tf_config()
        return sum(len(cluster.get(job, ())) for job in ("chief", "worker"))

    @property
    def is_chief(self):
        return is_chief(self.strategy)

    @property
    def device(self):
        """`"TPU"`, `"GPU"` or `"CPU"`: what the replicas run on."""
        from deepedge.backend import tf

        if self.kind == "tpu":
            return "TPU"
        return "GPU" if tf.config.list_physical_devices("GPU") else "CPU"

    def check_supported(self, what, kinds):
        """Raises `DistributionError` unless this distribution's kind is one of `kinds`: for a
        training loop (`what`) that reduces across fewer kinds of replicas than `fit`. Asked for
        `"auto"`, the loop takes what it can (one device at least) without complaint."""
        if self.kind not in kinds and self.requested != "auto":
            raise DistributionError(f"{what} trains with --strategy {' or '.join(kinds)} only. Received: "
                                    f"--strategy {self.requested} ({self.kind}, {self.replicas} replica{'s' * (self.replicas != 1)}). "
                                    f"Choose --strategy {kinds[0]}.")

    def scale(self, recipe):
        """The recipe for this many replicas (`scale_recipe`)."""
        return scale_recipe(recipe, self.replicas)

    def policy(self, recipe):
        """The Keras dtype policy the recipe trains in."""
        if self.precision != "auto":
            return self.precision
        device = self.device
        if device == "CPU" and recipe.get("precision") == "mixed_bfloat16" and not cpu_has_bfloat16():
            return "float32"
        return {"TPU": "mixed_bfloat16", "GPU": "mixed_float16"}.get(device, recipe.get("precision", "float32"))

    @contextlib.contextmanager
    def scope(self, recipe):
        """Build and compile the model inside: the strategy's scope, under the recipe's dtype policy
        (restored afterwards; the layers keep the policy they were built with)."""
        from deepedge.backend import keras

        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.policy(recipe))
        try:
            with self.strategy.scope():
                yield self.strategy
        finally:
            keras.config.set_dtype_policy(previous)

    @property
    def compile_options(self):
        """Keyword arguments for `model.compile`."""
        return {"jit_compile": "auto" if self.jit_compile is None else bool(self.jit_compile)}

    def record(self, model, recipe):
        """What `training.json` records of how the model trained; `recipe` is the scaled one. The
        precision and XLA are read from `model` itself: what it was built and compiled with."""
        return {"strategy": self.kind, "requested": self.requested, "device": self.device,
                "replicas": self.replicas, "workers": self.workers, "precision": model.dtype_policy.name,
                # (the multi-worker loop runs without XLA: its loss takes a collective sum)
                "jit_compile": bool(getattr(model, "jit_compile", False)) and self.kind != "multi-worker",
                "per_replica_batch_size": int(recipe["batch_size"]) // self.replicas,
                "global_batch_size": int(recipe["batch_size"]), "learning_rate": recipe.get("learning_rate"),
                "scaling_rule": SCALING_RULE}
