"""Multiply-accumulates per example of a Keras model, counted from its layers' shapes.

Counts what dominates on a device: `Dense`, `Conv2D` (and `Conv1D`), `DepthwiseConv2D` and
`SeparableConv2D` layers (one MAC per weight use), walking nested models. Pooling,
activations, normalisation and additions are not counted. Layers must have been called
(built with known output shapes): a functional model, or a subclassed one after `build`.
"""

import math

from deepedge.errors import InvalidInputError


def _spatial(layer):
    shape = layer.output.shape if hasattr(layer, "_inbound_nodes") and layer._inbound_nodes else None
    if shape is None or any(d is None for d in shape[1:-1]):
        raise InvalidInputError(f"Layer {layer.name!r} has no known output size; build the model on a fixed "
                                f"input shape first.")
    return math.prod(shape[1:-1])


def layer_multiply_accumulates(layer):
    """MACs of one layer for one example (0 for layers that are not counted)."""
    from deepedge.backend import keras

    L = keras.layers
    if isinstance(layer, keras.Model):
        return sum(layer_multiply_accumulates(sub) for sub in layer.layers)
    if isinstance(layer, L.Dense):
        kernel = layer.kernel.shape
        positions = math.prod(layer.output.shape[1:-1]) if len(layer.output.shape) > 2 else 1
        return int(kernel[0] * kernel[1] * positions)
    if isinstance(layer, L.SeparableConv2D):
        depthwise, pointwise = layer.depthwise_kernel.shape, layer.pointwise_kernel.shape
        return int(_spatial(layer) * (math.prod(depthwise) + math.prod(pointwise)))
    if isinstance(layer, L.DepthwiseConv2D):
        return int(_spatial(layer) * math.prod(layer.kernel.shape))
    if isinstance(layer, (L.Conv2D, L.Conv1D)):
        return int(_spatial(layer) * math.prod(layer.kernel.shape) // max(1, getattr(layer, "groups", 1)))
    return 0


def multiply_accumulates(model):
    """MACs per example of a built Keras model (see the module doc for what is counted)."""
    return int(sum(layer_multiply_accumulates(layer) for layer in model.layers))


__all__ = ["layer_multiply_accumulates", "multiply_accumulates"]
