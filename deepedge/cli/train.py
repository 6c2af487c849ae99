"""`deepedge train PRESET`: train a trained preset by its recipe (resumes when run again)."""

import os
from pathlib import Path

import click

from deepedge.cli.common import console
from deepedge.training.distribute import PRECISIONS, STRATEGIES


@click.command("train")
@click.argument("preset")
@click.option("--out", type=click.Path(file_okay=False), help="Output folder. Defaults to saved_models/PRESET.")
@click.option("--epochs", type=click.IntRange(min=1), help="Override the recipe's epochs.")
@click.option("--limit", type=click.IntRange(min=1),
              help="Train on part of the data only (images, chapters, scenes or utterances per keyword: "
                   "the family's recipe says which).")
@click.option("--export/--no-export", default=True, show_default=True, help="Export int8 with a model card afterwards.")
@click.option("--strategy", type=click.Choice(STRATEGIES), default="auto", show_default=True,
              help="Where to train: auto (a TPU, else all local GPUs, else one device), default (one device), "
                   "mirrored (all local GPUs), multi-worker (the cluster in TF_CONFIG), tpu.")
@click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True,
              help="Dtype policy: auto is mixed_float16 on GPUs, mixed_bfloat16 on TPUs, the recipe's own on CPUs "
                   "(its mixed_bfloat16 only on CPUs with bfloat16 instructions, AMX or AVX-512 BF16; float32 elsewhere).")
@click.option("--jit-compile/--no-jit-compile", default=None,
              help="Compile the training step with XLA. Default: Keras's choice (on GPUs and TPUs, not on CPUs).")
@click.option("--cpu-replicas", type=click.IntRange(min=1),
              help="Split the CPU into N logical devices and train on them as N replicas (mirrored, or auto): a "
                   "multi-replica run checked here before it goes to several GPUs. No faster: they share the cores.")
@click.option("--quantization-aware", is_flag=True,
              help="Fine-tune the trained model in --out with quantization-aware training (the recipe's QAT epochs "
                   "and rate; --epochs overrides them), so its int8 export computes what it trained for. Saves the "
                   "ranges in qat_ranges.json beside model.keras; export and evaluate use them.")
def command(preset, out, epochs, limit, export, strategy, precision, jit_compile, cpu_replicas, quantization_aware):
    """Train a preset by its recipe; run it again after an interruption to resume.

    `deepedge info` lists the presets. Each family's recipe says what --limit counts and how it
    trains (language models in mixed bfloat16 where the CPU computes in it, scenes and keyword clips drawn afresh every epoch).
    The recipe's batch is per replica: with R replicas the global batch and the learning rate are
    R times the recipe's (training.json records both). With --strategy multi-worker, run the
    same command on every machine, each with its own TF_CONFIG; the chief writes the model.
    """
    from deepedge.errors import PresetNotFoundError
    from deepedge.fileio import check_output_path
    from deepedge.presets import saved_models_dir
    from deepedge.registry import family_of_preset

    if out is not None:
        check_output_path(out)
    family = family_of_preset(preset)
    if preset not in family.recipes:
        raise PresetNotFoundError(f"{preset!r} is an architecture preset with no training recipe; train one of "
                                  f"{sorted(family.recipes)}.")
    out = Path(out) if out else saved_models_dir() / preset
    if quantization_aware and (limit or strategy not in ("auto", "default") or cpu_replicas
                               or precision not in ("auto", "float32")):
        from deepedge.errors import InvalidInputError

        raise InvalidInputError("--quantization-aware fine-tunes on one device in float32 with the recipe's data; it "
                                "takes --out, --epochs and --export only. Received: "
                                f"--limit {limit}, --strategy {strategy}, --precision {precision}, "
                                f"--cpu-replicas {cpu_replicas}.")
    if quantization_aware and not getattr(family, "quantization_aware_training", False):
        from deepedge.errors import InvalidInputError

        raise InvalidInputError(f"The {family.title} family has no quantization-aware fine-tuning recipe yet; fine-tune "
                                "in Python with `task.fit(..., quantization_aware=True)`. Received: --quantization-aware "
                                f"for {preset!r}.")
    if out.is_absolute() and out.resolve().is_relative_to(Path.cwd().resolve()):
        out = out.resolve().relative_to(Path.cwd().resolve())  # the card's commands then work from any checkout
    # oneDNN's CPU kernels train every family here 20-30% faster; read once, at TensorFlow's import.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    from deepedge.training.distribute import Distribution

    # Before anything runs on TensorFlow: a multi-worker strategy sets up its collectives at start.
    distribution = Distribution(strategy, precision=precision, jit_compile=jit_compile, cpu_replicas=cpu_replicas)
    if quantization_aware:
        summary = family.train(preset, out, epochs=epochs, quantization_aware=True)
    else:
        summary = family.train(preset, out, epochs=epochs, limit=limit, distribution=distribution)
    if not distribution.is_chief:
        return  # the chief saves and exports
    console.print(summary)
    if export:
        from deepedge.cli.export import export_model

        export_model(out / "model.keras", out, "int8")
