"""Fit glue: strategies (tf.distribute), resumable training, input pipelines made in worker processes,
augmentation, batch-norm re-estimation.

Attributes are imported on first use, so the command line can read the strategy names
(`deepedge.training.distribute`) without importing TensorFlow.
"""

from deepedge.lazy import lazy_attributes

_LAZY = {
    "Distribution": "deepedge.training.distribute",
    "ImageAugmentation": "deepedge.training.augment",
    "fit_resumable": "deepedge.training.resumable",
    "ordered_batches": "deepedge.training.resumable",
    "parallel_batches": "deepedge.training.pipelines",
    "recalibrate_batch_norm": "deepedge.training.batchnorm",
    "seed_everything": "deepedge.training.resumable",
    "strategy_for": "deepedge.training.distribute",
}
__getattr__ = lazy_attributes(__name__, _LAZY)
__all__ = sorted(_LAZY)
