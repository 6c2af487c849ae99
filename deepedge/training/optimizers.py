"""The optimizer every training recipe uses: AdamW on a warm-up + cosine learning-rate schedule."""

from deepedge.backend import keras


def build_optimizer(recipe, steps_per_epoch, epochs, alpha=0.0, clipnorm=None):
    """AdamW with one epoch of linear warm-up, then cosine decay.

    The learning rate climbs from a tenth of `recipe["learning_rate"]` to all of it over the
    first epoch, then decays over the remaining `epochs - 1` to `alpha` times it (zero by
    default). `recipe["weight_decay"]` is AdamW's decoupled weight decay.

    Args:
        recipe: dict with `learning_rate` and `weight_decay`.
        steps_per_epoch: int. Optimizer steps (batches) per epoch.
        epochs: int. Epochs of the run.
        alpha: float. The final learning rate as a fraction of the peak. Defaults to `0.0`.
        clipnorm: float. Clips each weight's gradient to this norm. Defaults to `None` (no clipping).
    """
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=recipe["learning_rate"] / 10, decay_steps=steps_per_epoch * max(1, epochs - 1),
        warmup_target=recipe["learning_rate"], warmup_steps=steps_per_epoch, alpha=alpha)
    return keras.optimizers.AdamW(schedule, weight_decay=recipe["weight_decay"], clipnorm=clipnorm)
