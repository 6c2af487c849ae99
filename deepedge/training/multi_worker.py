"""The training loop for several workers, where Keras 3's `fit` fails.

Under `tf.distribute.MultiWorkerMirroredStrategy`, Keras 3.15's `fit` stops with "Attempt to
convert a value (PerReplica ...)" (keras-team/keras#20585, tensorflow/tensorflow#72388).
`StrategyLoop` trains the same compiled Keras model with the same optimizer by hand:

- each global batch is split over the replicas of all workers
  (`experimental_distribute_dataset`, auto-shard policy DATA, so every worker reads the same
  deterministic pipeline and keeps its share of each batch);
- each replica's loss is `tf.nn.compute_average_loss` of its per-example losses over the
  global batch's size (more exactly: over the number of loss values in the global batch,
  summed across replicas each step, so a partial last batch and masked values count as on
  one device), plus the model's regularisation losses divided by the replicas
  (`tf.nn.scale_regularization_loss`): summed over replicas, the loss one device computes;
- the optimizer sums the replicas' gradients and applies them; when it clips (`clipnorm`,
  `global_clipnorm`, `clipvalue`), the gradients are summed first and clipped whole, since
  Keras clips each replica's part before summing;
- the loss is summed over replicas with `strategy.reduce`, and the compiled metrics (variables
  that sum on read) are read across replicas, for training and validation alike.
"""

from deepedge.backend import keras, tf
from deepedge.errors import DistributionError


def _losses_of(model):
    return list(model.loss) if isinstance(model.loss, (list, tuple)) else [model.loss]


def check_trainable(model):
    """Raises `DistributionError` unless `StrategyLoop` can train `model`: Keras's own
    `train_step`, and one compiled loss per output (a loss or a list of them, not a dict)."""
    reason = None
    if type(model).train_step is not keras.Model.train_step:
        reason = "it trains by its own `train_step`"
    elif model.loss is None or isinstance(model.loss, dict) or any(loss is None for loss in _losses_of(model)):
        reason = f"its loss is {model.loss!r}, not one loss per output"
    if reason:
        raise DistributionError(f"Multi-worker training cannot train {type(model).__name__}: {reason}. Train it "
                                "on one machine (--strategy auto, default or mirrored).")


def loss_terms(loss, y_true, y_pred, sample_weight=None):
    """One compiled loss on a replica's batch: `(per-example sums (batch,), values averaged over)`.

    Keras's default reduction ("sum_over_batch_size") divides the weighted sum of every value
    (each step of a sequence, each pixel) by their number, or by the number of unmasked values
    when the loss masks some (`ignore_class`); dividing the sum of all replicas' per-example
    sums by the sum of their counts gives the same mean over the global batch.
    """
    if isinstance(loss, str):
        loss = keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss):
        values = loss.call(tf.cast(y_true, loss.dtype), tf.cast(y_pred, loss.dtype))
    else:
        values = loss(y_true, tf.cast(y_pred, "float32"))
    mask = getattr(values, "_keras_mask", None)  # where Keras 3 losses put `ignore_class`
    values = tf.cast(values, "float32")
    weights = tf.ones_like(values)
    if sample_weight is not None:
        weight = tf.cast(sample_weight, "float32")
        while len(weight.shape) < len(values.shape):
            weight = weight[..., None]
        if len(weight.shape) > len(values.shape):
            weight = tf.squeeze(weight, -1)
        weights = weights * weight
    count = tf.cast(tf.size(values), "float32")
    if mask is not None:
        weights = weights * tf.cast(mask, "float32")
        count = tf.reduce_sum(tf.cast(mask, "float32"))
    sums = tf.reduce_sum(tf.reshape(values * weights, (tf.shape(values)[0], -1)), axis=1)
    return sums, count


def _times(gradient, factor):
    """`gradient * factor`, dense or sparse (an embedding's `IndexedSlices`)."""
    if isinstance(gradient, tf.IndexedSlices):
        return tf.IndexedSlices(gradient.values * factor, gradient.indices, gradient.dense_shape)
    return gradient * factor


def _clip(optimizer, gradients):
    """Keras's clipping (`clipnorm` per weight, `global_clipnorm`, `clipvalue`) of whole gradients."""
    if optimizer.clipnorm:
        return [tf.clip_by_norm(g, optimizer.clipnorm) for g in gradients]
    if optimizer.global_clipnorm:
        return tf.clip_by_global_norm(gradients, optimizer.global_clipnorm)[0]
    return [tf.clip_by_value(g, -optimizer.clipvalue, optimizer.clipvalue) for g in gradients]


class StrategyLoop:
    """Trains a compiled Keras `model` built inside `strategy`'s scope, one epoch per call.

    The step runs as a graph (`tf.function`) but without XLA, whatever `jit_compile` says:
    its loss takes a collective sum of the replicas' counts.

    Args:
        model: a compiled Keras model (`check_trainable`).
        strategy: the `tf.distribute.Strategy` the model was built under.
    """

    def __init__(self, model, strategy):
        check_trainable(model)
        self.model, self.strategy = model, strategy
        self._train_step = tf.function(lambda data: self._across_replicas(self._replica_train, data),
                                       reduce_retracing=True)
        self._test_step = tf.function(lambda data: self._across_replicas(self._replica_test, data),
                                      reduce_retracing=True)

    def distribute(self, dataset):
        """`dataset` (of global batches) split over the replicas, sharded by data."""
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        replicas = self.strategy.num_replicas_in_sync
        # A global batch smaller than the replicas would leave one empty (NaN batch statistics).
        dataset = dataset.filter(lambda *batch: tf.shape(tf.nest.flatten(batch[1])[0])[0] >= replicas)
        return self.strategy.experimental_distribute_dataset(dataset.with_options(options))

    # === One replica ===
    def _loss(self, data, y_pred, context):
        """This replica's share of the global batch's loss (the replicas' shares sum to it)."""
        model = self.model
        _, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        terms = [loss_terms(loss, t, p, sample_weight) for loss, t, p in
                 zip(_losses_of(model), tf.nest.flatten(y), tf.nest.flatten(y_pred))]
        counts = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.stack([count for _, count in terms]))
        counts = tf.cast(tf.round(counts), "int64")  # exact: float32 counts whole numbers up to 2**24
        loss = tf.add_n([tf.nn.compute_average_loss(sums, global_batch_size=counts[i])
                         for i, (sums, _) in enumerate(terms)])
        if model.losses:  # weight penalties and activity regularisers
            loss += tf.nn.scale_regularization_loss(tf.add_n([tf.cast(v, "float32") for v in model.losses]))
        return loss

    def _replica_train(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        context = tf.distribute.get_replica_context()
        model = self.model
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = self._loss(data, y_pred, context)
            scaled = model.optimizer.scale_loss(loss)
        self._apply(context, tape.gradient(scaled, model.trainable_variables))
        model.compute_metrics(x, y, y_pred, sample_weight)
        return loss, tf.cast(tf.shape(tf.nest.flatten(x)[0])[0], "float32")

    def _apply(self, context, gradients):
        optimizer, variables = self.model.optimizer, self.model.trainable_variables
        inner = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer's
        if inner.clipnorm or inner.global_clipnorm or inner.clipvalue:
            pairs = [(g, v) for g, v in zip(gradients, variables) if g is not None]
            summed = context.all_reduce(tf.distribute.ReduceOp.SUM, [g for g, _ in pairs])
            scale = tf.cast(optimizer.dynamic_scale, "float32") if inner is not optimizer else 1.0
            clipped = [_times(g, scale) for g in _clip(inner, [_times(g, 1.0 / scale) for g in summed])]
            # The optimizer sums the replicas' gradients again: hand each its share of the
            # clipped sum, whose norm is then below the threshold, so Keras's clip keeps it.
            share = 1.0 / self.strategy.num_replicas_in_sync
            gradients, variables = [_times(g, share) for g in clipped], [v for _, v in pairs]
        optimizer.apply_gradients(zip(gradients, variables))

    def _replica_test(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self.model(x, training=False)
        loss = self._loss(data, y_pred, tf.distribute.get_replica_context())
        self.model.compute_metrics(x, y, y_pred, sample_weight)
        return loss, tf.cast(tf.shape(tf.nest.flatten(x)[0])[0], "float32")

    # === Across replicas ===
    def _across_replicas(self, replica_step, data):
        """`(the global batch's loss, its size)`, summed over the replicas."""
        loss, size = self.strategy.run(replica_step, args=(data,))
        return (self.strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None),
                self.strategy.reduce(tf.distribute.ReduceOp.SUM, size, axis=None))

    def _run(self, step, dataset, on_batch_end=None):
        """Runs `step` over `dataset`; the loss is the mean of the batches' losses weighted by
        their sizes, as Keras's loss tracker keeps it."""
        self.model.reset_metrics()
        total = count = 0.0
        for index, batch in enumerate(self.distribute(dataset)):
            batch_loss, batch_size = step(batch)
            total, count = total + float(batch_loss) * float(batch_size), count + float(batch_size)
            if on_batch_end is not None:
                on_batch_end(index, {"loss": total / count})
        metrics = {name: float(value) for name, value in self.model.get_metrics_result().items()}
        return {**metrics, "loss": total / max(count, 1.0)}

    def run_epoch(self, dataset, validation=None, progress=None):
        """Trains one epoch over `dataset` (global batches `(x, y)` or `(x, y, sample_weight)`),
        then evaluates `validation` (batched the same way) if given; returns the epoch's logs
        (`loss`, the compiled metrics, and `val_` of each) like `fit`'s history. `progress`: a
        Keras callback shown the batches and the epoch's end (`EpochProgress`), or None."""
        try:
            if progress is not None:
                progress.on_train_begin()
            logs = self._run(self._train_step, dataset, progress and progress.on_train_batch_end)
            if progress is not None:
                progress.on_train_end()
            if validation is not None:
                logs.update({f"val_{k}": v for k, v in self._run(self._test_step, validation).items()})
        except tf.errors.UnavailableError as e:
            raise DistributionError(f"A worker of the job stopped: {e.message.splitlines()[0]} Start every worker "
                                    "again with the same command: the job resumes from the chief's last "
                                    "checkpoint.") from e
        if progress is not None:
            progress.on_epoch_end(0, logs)
        return logs
