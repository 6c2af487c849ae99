"""Re-estimating batch-norm statistics after training.

Batch norm keeps an exponential moving average of each batch's mean and variance for
inference. With a high momentum (keras.applications builds MobileNetV3 with 0.999) and a
short training run, that average still remembers the first, untrained batches, and a model
that trains well scores near chance at test time. Re-estimating the statistics as an exact
average over a few hundred batches, with the weights frozen, removes the trap.
"""

import numpy as np

from deepedge.backend import keras


def batch_norm_layers(model):
    """Every BatchNormalization layer in `model`, nested layers included."""
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, keras.layers.BatchNormalization)]


def recalibrate_batch_norm(model, images, batch_size=256, max_batches=100):
    """Sets every BN layer's moving mean and variance to their average over `images`.

    Only the moving statistics change; trainable weights stay as they are. Returns the
    number of BN layers updated.
    """
    layers = batch_norm_layers(model)
    if not layers:
        return 0
    momenta = [layer.momentum for layer in layers]
    batches = [images[i:i + batch_size] for i in range(0, len(images), batch_size)][:max_batches]
    try:
        for k, batch in enumerate(batches):
            for layer in layers:
                # Batch k gets weight 1/(k+1): a cumulative, not an exponential, average.
                layer.momentum = k / (k + 1.0)
            model(np.asarray(batch, np.float32), training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    return len(layers)
