"""`GlimpseAgent`: the Recurrent Attention Model (Mnih, Heess, Graves and Kavukcuoglu 2014).

The agent never sees the whole image. At each of `glimpses` steps a retina
(`deepedge.layers.GlimpseSensor`) reads a few small patches around a location; a glimpse
network mixes what it read with where it looked; an LSTM core carries what it has seen; a
location network picks where to look next; after the last glimpse a head names the class.
Where to look is not differentiable, so the location network is trained with REINFORCE
(Williams 1992): a Gaussian policy around its output, rewarded 1 when the final answer is
right, with a learned baseline subtracted (the "hybrid loss" of Mnih et al.: cross-entropy
for the classifier, REINFORCE for the locations, squared error for the baseline).

`fit` trains with sampled locations; `predict`/`call` look at the policy's means (no
noise), which is also what the device does. The cost per image is `glimpses` times one small
step, whatever the canvas's size: `multiply_accumulates()` counts it.

On device the model is one `step` signature: `(glimpse, location, h, c) -> (probabilities,
next location, h, c)`; the runtime crops the glimpse with the numpy retina
(`deepedge.ops.glimpse.retina`) and moves it where the step says.
"""

import numpy as np

from deepedge.apps.agents.glimpse_presets import ARCHITECTURES, TRAINED
from deepedge.apps.task import Task
from deepedge.backend import keras
from deepedge.layers.glimpse import GlimpseSensor

ops = keras.ops


@keras.saving.register_keras_serializable(package="deepedge")
class GlimpseAgent(Task, keras.Model):
    """A recurrent visual-attention classifier trained with REINFORCE.

    Args:
        num_classes: int.
        glimpses: int. Glimpses per image (Mnih et al.: 4-8).
        glimpse_size: int. Side of each retina patch after averaging.
        scales: int. Patches per glimpse, each twice as wide as the last.
        glimpse_units: int. Width of the "what" and "where" layers of the glimpse network.
        core_units: int. LSTM units of the core (and the glimpse network's output).
        location_std: float. Standard deviation of the Gaussian location policy in training
            (locations span [-1, 1]).
        glimpse_filters: tuple of int. 3x3 convolutions on the retina's patches (its scales as
            channels; the first with stride 1, the others 2) before the "what" layer, as in the
            deep recurrent attention model of Ba et al. (2014). Defaults to `()`: the "what"
            layer reads the pixels, as in Mnih et al.
        locator: `"dense"` (Mnih et al.: the next location is `tanh(W h)`) or `"saliency"`: the
            next location is the current one moved by the expected offset of a softmax over the
            cells of the glimpse's coarsest patch, whose logits a small convolution reads from
            that patch and the core state biases (a spatial softmax, as in the keypoints of
            Levine et al. 2016). Still the mean of the Gaussian policy that REINFORCE trains.
        class_names: tuple of str, or None.

    Call it on images `(batch, height, width, 1)` with values 0..255; it returns class
    probabilities `(batch, num_classes)`.
    """

    family = "agents"
    task_name = "glimpse_classification"
    metric_name = "accuracy"
    parity_threshold = 0.01  # accuracy an int8 export may lose (1 point)
    architectures = ARCHITECTURES
    trained = TRAINED

    def __init__(self, num_classes=10, glimpses=6, glimpse_size=12, scales=3, glimpse_units=128, core_units=256,
                 location_std=0.22, glimpse_filters=(), locator="dense", class_names=None, **kwargs):
        super().__init__(**kwargs)
        if int(glimpses) < 1:
            raise ValueError(f"An agent takes at least one glimpse. Received: glimpses={glimpses}")
        self.num_classes, self.glimpses = int(num_classes), int(glimpses)
        self.glimpse_size, self.scales = int(glimpse_size), int(scales)
        self.glimpse_units, self.core_units, self.location_std = int(glimpse_units), int(core_units), float(location_std)
        self.class_names = tuple(class_names) if class_names else tuple(str(i) for i in range(self.num_classes))
        self.glimpse_filters = tuple(int(f) for f in glimpse_filters)
        if locator not in ("dense", "saliency"):
            raise ValueError(f'`locator` must be "dense" or "saliency". Received: locator={locator!r}')
        self.locator_kind = locator
        # === Layers ===
        self.sensor = GlimpseSensor(self.glimpse_size, self.scales, name="retina")
        self.convolutions = [keras.layers.Conv2D(filters, 3, strides=1 if i == 0 else 2, activation="relu",
                                                 name=f"glimpse_conv_{i + 1}")
                             for i, filters in enumerate(self.glimpse_filters)]
        self.what = keras.layers.Dense(self.glimpse_units, activation="relu", name="glimpse_what")
        self.where = keras.layers.Dense(self.glimpse_units, activation="relu", name="glimpse_where")
        self.glimpse_out = keras.layers.Dense(self.core_units, activation="relu", name="glimpse_out")
        self.core = keras.layers.LSTMCell(self.core_units, name="core")
        if locator == "dense":
            self.locator = keras.layers.Dense(2, activation="tanh", name="locator")
        else:
            self.saliency_conv = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="saliency_conv")
            self.saliency_logits = keras.layers.Conv2D(1, 1, name="saliency_logits")
            self.saliency_state = keras.layers.Dense(self.glimpse_size ** 2, kernel_initializer="zeros",
                                                     name="saliency_state")
            self.canvas = None  # (height, width) whose pixels the exported step's moves are in; set by `build`
        self.baseline = keras.layers.Dense(1, name="baseline")
        self.classifier = keras.layers.Dense(self.num_classes, activation="softmax", name="classifier")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")  # in training: with sampled locations

    # === The parts a step shares with the export ===
    def _glimpse_features(self, glimpse, location):
        """The glimpse network: `relu(W [relu(W_what glimpse), relu(W_where location)])`."""
        pixels = glimpse
        if self.convolutions:
            pixels = ops.transpose(glimpse, (0, 2, 3, 1))  # the scales as channels
            for convolution in self.convolutions:
                pixels = convolution(pixels)
        what = self.what(ops.reshape(pixels, (-1, int(np.prod(pixels.shape[1:])))))
        return self.glimpse_out(ops.concatenate([what, self.where(location)], axis=-1))

    def _locate(self, glimpse, location, h, offsets=None):
        """The mean of the next location's policy (`offsets`: the saliency cells' for the canvas
        read, by default those of the canvas the agent was built for)."""
        if self.locator_kind == "dense":
            return self.locator(h)
        coarse = ops.transpose(glimpse[:, -1:], (0, 2, 3, 1))
        logits = ops.reshape(self.saliency_logits(self.saliency_conv(coarse)), (-1, self.glimpse_size ** 2))
        weights = ops.softmax(logits + self.saliency_state(h), axis=-1)
        offsets = self._offsets(*self.canvas) if offsets is None else offsets
        return ops.clip(location + ops.matmul(weights, offsets), -1.0, 1.0)

    def _offsets(self, height, width):
        """The centre of each cell `(i, j)` of the coarsest patch, from the patch's centre, in
        location units on canvases of `height` x `width` pixels: `(cells, 2)`."""
        g, factor = self.glimpse_size, 2 ** (self.scales - 1)
        cells = (np.arange(g) + 0.5 - g / 2) * factor * 2.0
        rows, cols = np.meshgrid(cells / float(height), cells / float(width), indexing="ij")
        return ops.convert_to_tensor(np.stack([rows, cols], -1).reshape(g * g, 2).astype("float32"))

    def _read(self, glimpse, location, h, c, cell_step=None):
        """`(h', c')` after reading `glimpse` (already cropped) at `location`."""
        features = self._glimpse_features(glimpse, location)
        if cell_step is None:
            _, (h, c) = self.core(features, [h, c])
            return h, c
        return cell_step(features, h, c)

    def _step(self, glimpse, location, h, c, cell_step=None):
        """`(h', c', next location mean)`: one step as the device runs it."""
        h, c = self._read(glimpse, location, h, c, cell_step)
        return h, c, self._locate(glimpse, location, h)

    def _rollout(self, images, sample=False, seed=None):
        """`(probabilities, locations (batch, glimpses, 2), log-probabilities of the sampled
        locations (batch, glimpses - 1), baselines (batch, glimpses - 1))`."""
        # the pixel values' block sums, once for every glimpse (exact: integers); scaled after reading
        levels = self.sensor.pyramid(ops.cast(images, "float32"))
        batch = ops.shape(images)[0]
        offsets = self._offsets(images.shape[1], images.shape[2]) if self.locator_kind == "saliency" else None
        h = c = ops.zeros((batch, self.core_units))
        location = ops.zeros((batch, 2))  # the first glimpse looks at the centre
        locations, log_pis, baselines = [location], [], []
        for t in range(self.glimpses):
            glimpse = self.sensor.read(levels, location) / 255.0
            h, c = self._read(glimpse, location, h, c)
            if t == self.glimpses - 1:
                break
            # REINFORCE trains the locator alone: its noisy gradient stays out of the core and
            # the glimpse network, which the classifier's cross-entropy trains
            mean = self._locate(glimpse, location, ops.stop_gradient(h) if sample else h, offsets)
            if sample:
                noise = keras.random.normal(ops.shape(mean), stddev=self.location_std, seed=seed)
                location = ops.stop_gradient(ops.clip(mean + noise, -1.0, 1.0))
                log_pis.append(-ops.sum(ops.square(location - mean), axis=-1) / (2.0 * self.location_std ** 2))
                baselines.append(self.baseline(ops.stop_gradient(h))[:, 0])
            else:
                location = mean
            locations.append(location)
        probabilities = self.classifier(h)
        stack = (lambda xs: ops.stack(xs, axis=1)) if sample and log_pis else (lambda xs: None)
        return probabilities, ops.stack(locations, axis=1), stack(log_pis), stack(baselines)

    def call(self, images, training=False):
        return self._rollout(images)[0]

    def glimpse_path(self, images):
        """Where the agent looks at each glimpse, `(batch, glimpses, 2)` in [-1, 1] (no noise)."""
        return ops.convert_to_numpy(self._rollout(images)[1])

    # === Training ===
    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def compile(self, optimizer="auto", **kwargs):
        """Adam with clipped gradients unless told otherwise; the loss is the hybrid loss of
        `train_step` (cross-entropy + REINFORCE + baseline), so `loss=` is not taken."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3, clipnorm=1.0)
        super().compile(optimizer=optimizer, **kwargs)

    def hybrid_loss(self, labels, probabilities, log_pis, baselines):
        """`(loss, reward)`: mean cross-entropy, plus REINFORCE on the sampled locations with the
        baseline subtracted, plus the baseline's squared error."""
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        cross_entropy = ops.mean(keras.losses.sparse_categorical_crossentropy(labels, probabilities))
        reward = ops.cast(ops.equal(ops.cast(ops.argmax(probabilities, axis=-1), "int32"), labels), "float32")
        loss = cross_entropy
        if log_pis is not None:
            advantage = ops.stop_gradient(reward[:, None] - baselines)
            loss = loss - ops.mean(ops.sum(log_pis * advantage, axis=1))
            loss = loss + ops.mean(ops.square(reward[:, None] - baselines))
        return loss, reward

    def train_step(self, data):
        from deepedge.backend import tf

        images, labels = data[0], data[1]
        with tf.GradientTape() as tape:
            probabilities, _, log_pis, baselines = self._rollout(images, sample=True)
            loss, reward = self.hybrid_loss(labels, probabilities, log_pis, baselines)
            # Under a strategy the optimizer sums the replicas' gradients of their batch means.
            share = loss / self.distribute_strategy.num_replicas_in_sync
        gradients = tape.gradient(share, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(ops.mean(reward))
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        images, labels = data[0], data[1]
        probabilities = self._rollout(images)[0]
        loss, reward = self.hybrid_loss(labels, probabilities, None, None)
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(ops.mean(reward))
        return {m.name: m.result() for m in self.metrics}

    def build(self, input_shape):
        if self.locator_kind == "saliency" and self.canvas is None:
            # the step's moves (exported) are those on the canvas the agent is built for
            self.canvas = (int(input_shape[1]), int(input_shape[2]))
        if not self.built:
            self._rollout(ops.zeros((1, *input_shape[1:])))
            # (an agent of one glimpse never moves in a rollout, but its exported step still locates)
            self._locate(ops.zeros((1, self.scales, self.glimpse_size, self.glimpse_size)), ops.zeros((1, 2)),
                         ops.zeros((1, self.core_units)))
            # Only a sampled rollout calls the baseline: build it here, so that a checkpoint
            # of a model in training (baseline included) loads whole and resumes where it stopped
            self.baseline.build((None, self.core_units))
        super().build(input_shape)

    # === Cost ===
    def multiply_accumulates(self):
        """Multiply-accumulates per image on device: `glimpses` steps of the glimpse network,
        the LSTM core and the locator, the classifier once, and the retina's averaging (one
        addition per pixel read). The canvas's size does not appear."""
        g, s, u, k = self.glimpse_size, self.scales, self.glimpse_units, self.core_units
        retina = sum(g * g * 4 ** i for i in range(s))
        convolutions, side, channels = 0, g, s
        for i, filters in enumerate(self.glimpse_filters):
            side = side - 2 if i == 0 else (side - 3) // 2 + 1
            convolutions += side * side * filters * 9 * channels
            channels = filters
        step = convolutions + side * side * channels * u + 2 * u + 2 * u * k + 4 * (k + k) * k
        if self.locator_kind == "dense":
            step += 2 * k
        else:  # two convolutions on the coarsest patch, the state's bias, the expected offset
            step += g * g * (16 * 9 + 16 + k + 2)
        return int(self.glimpses * (retina + step) + k * self.num_classes)

    # === Export ===
    @property
    def edge_float_layers(self):
        """The core's elementwise cell-state update stays float32 (`deepedge.layers.recurrent`)."""
        return (f"{self.core.name}_state",)

    def edge_signatures(self):
        """One `step`: `(glimpse, location, h, c) -> (probabilities, location, h, c)`, batch of one;
        the runtime crops the glimpse and carries the state and the location."""
        from deepedge.layers import GatewiseLSTMStep

        glimpse = keras.Input(shape=(self.scales, self.glimpse_size, self.glimpse_size), batch_size=1, name="glimpse")
        location = keras.Input(shape=(2,), batch_size=1, name="location")
        h_in = keras.Input(shape=(self.core_units,), batch_size=1, name="h")
        c_in = keras.Input(shape=(self.core_units,), batch_size=1, name="c")
        h, c, next_location = self._step(glimpse, location, h_in, c_in, cell_step=GatewiseLSTMStep(self.core))
        model = keras.Model([glimpse, location, h_in, c_in], [self.classifier(h), next_location, h, c],
                            name=f"{self.name}_step")
        state = [{"name": n, "shape": [1, self.core_units], "dtype": "float32", "initial": 0.0} for n in ("h", "c")]
        return {"step": {"model": model, "inputs": ["glimpse", "location", "h", "c"],
                         "outputs": ["probabilities", "next_location", "h", "c"], "state": state}}

    def calibration_samples(self, data, num_samples=400, seed=0):
        """Real step inputs for int8 calibration: every glimpse of canvases of `data`, as the
        policy's means place them (the path the device follows)."""
        from deepedge.ops.glimpse import retina

        images = data.images if hasattr(data, "images") else np.asarray(data)
        rng = np.random.default_rng(seed)
        chosen = images[rng.permutation(len(images))[:max(1, num_samples // self.glimpses)]]
        scaled = chosen.astype(np.float32) / 255.0
        batch = len(chosen)
        h = c = ops.zeros((batch, self.core_units))
        location = np.zeros((batch, 2), np.float32)
        samples = []
        for _ in range(self.glimpses):
            glimpse = retina(scaled, location, self.glimpse_size, self.scales)
            samples += [("step", {"glimpse": glimpse[i:i + 1], "location": location[i:i + 1],
                                  "h": ops.convert_to_numpy(h[i:i + 1]), "c": ops.convert_to_numpy(c[i:i + 1])})
                        for i in range(batch)]
            h, c, mean = self._step(glimpse, location, h, c)
            location = ops.convert_to_numpy(mean)
        return samples[:num_samples]

    def edge_metadata(self):
        return {"labels": list(self.class_names), "glimpses": self.glimpses, "glimpse_size": self.glimpse_size,
                "scales": self.scales, "input": {"scale": 1.0 / 255.0, "layout": "HWC", "channels": 1},
                "multiply_accumulates": self.multiply_accumulates(), "params": int(self.count_params()),
                **({"canvas": list(self.canvas)} if self.locator_kind == "saliency" else {})}

    # === Evaluation ===
    def evaluate_metric(self, data):
        """Accuracy on a `CanvasDataset` (or `(images, labels)`), looking where the policy's means say."""
        images, labels = (data.images, data.labels) if hasattr(data, "images") else data
        predicted = np.concatenate([np.argmax(ops.convert_to_numpy(self(images[i:i + 500])), axis=-1)
                                    for i in range(0, len(labels), 500)])
        return float(np.mean(predicted == np.asarray(labels)))

    # === Presets ===
    @classmethod
    def from_architecture(cls, name, **kwargs):
        """An untrained agent of the architecture preset `name` (`num_classes` and the rest as keywords)."""
        return cls(**{**ARCHITECTURES[name]["config"], **kwargs})

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "glimpses": self.glimpses,
                "glimpse_size": self.glimpse_size, "scales": self.scales, "glimpse_units": self.glimpse_units,
                "core_units": self.core_units, "location_std": self.location_std,
                "glimpse_filters": list(self.glimpse_filters), "locator": self.locator_kind,
                "class_names": list(self.class_names)}


__all__ = ["GlimpseAgent"]
