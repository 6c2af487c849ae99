"""Scene labelling: a class for every pixel (Farabet et al.'s multiscale ConvNet, a compact encoder-decoder)."""

# Imported on first use, so that the family's plain-data modules (presets, family) load without Keras.
_LAZY = {
    "EncoderDecoderBackbone": "deepedge.apps.scene_labelling.backbones",
    "MultiscaleBackbone": "deepedge.apps.scene_labelling.backbones",
    "SceneLabeller": "deepedge.apps.scene_labelling.labeller",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
