"""Fit glue: resumable training, augmentation, batch-norm re-estimation."""

from deepedge.training.augment import ImageAugmentation
from deepedge.training.batchnorm import recalibrate_batch_norm
from deepedge.training.resumable import fit_resumable, ordered_batches, seed_everything

__all__ = ["ImageAugmentation", "fit_resumable", "ordered_batches", "recalibrate_batch_norm", "seed_everything"]
