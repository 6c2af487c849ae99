"""The end of every training recipe: the model saved to ship, its `training.json`, checkpoints removed."""

import shutil
from pathlib import Path

from deepedge.fileio import atomic_write_json
from deepedge.training.compact import save_keras, shipping_copy


def finish_training(model, out_dir, report, checkpoint_dir, input_shape=None, half_precision=False, chief=True):
    """Saves `out_dir/model.keras` and `out_dir/training.json` (the report), then removes
    `checkpoint_dir`: the finished model supersedes its per-epoch checkpoints.

    Args:
        model: the trained model.
        out_dir: folder for `model.keras` and `training.json`.
        report: dict, written as `training.json`.
        checkpoint_dir: the run's checkpoint folder, removed once both files are written.
        input_shape: tuple. When given, what is saved (and returned) is
            `shipping_copy(model, input_shape)`, an uncompiled float32 copy without optimizer
            state; without it, `model` as it is (already a shipping copy).
        half_precision: bool. Store the weights as float16 (`save_half_precision`).
        chief: bool. False on the workers of a multi-worker job other than its chief
            (`Distribution.is_chief`): they write nothing and leave the checkpoints alone.

    Returns:
        `(model, report)`, the model being the one saved.
    """
    out_dir = Path(out_dir)
    if input_shape is not None:
        model = shipping_copy(model, input_shape)
    if not chief:
        return model, report
    save_keras(model, out_dir / "model.keras", half_precision)
    atomic_write_json(out_dir / "training.json", report)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return model, report
