"""`deepedge calibrate MODEL FOLDER`: a threshold from a deployment's own recordings."""

from pathlib import Path

import click

from rich.console import Console

from deepedge.errors import InvalidInputError
from deepedge.presets import resolve_model

console = Console()


@click.command("calibrate")
@click.argument("model")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--false-accepts", type=click.FloatRange(0, 100), default=5.0, show_default=True,
              help="Percent of the recorded other words the threshold may let through.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Write a calibrated copy of the model here (needed for a shipped model's name).")
@click.option("--dry-run", is_flag=True, help="Report the threshold without writing it into model.json.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(model, folder, false_accepts, out, dry_run, as_json):
    """Set an exported keyword spotter's rejection threshold from your own recordings.

    FOLDER holds WAV files in folders named after what they say, as in Speech Commands:
    yes/*.wav, left/*.wav, ... for keywords, any other folder name for words that are not
    keywords (at least one such word is needed), _silence_/ for background sound. The
    threshold becomes the lowest that takes at most --false-accepts percent of the other
    words for keywords, measured with your speakers, microphone and room; it is written
    into the model.json of MODEL (an exported folder), or of a copy in --out (the shipped
    threshold was calibrated on synthetic voices).
    """
    import shutil

    from deepedge.fileio import check_output_path
    from deepedge.ops.keywords import load_keyword_folder
    from deepedge.runtime import load

    if out is not None:
        check_output_path(out)
    path = resolve_model(model)
    if out is None and not Path(model).exists() and not dry_run:
        raise InvalidInputError(f"{model} is a shipped model; pass --out FOLDER for a calibrated copy "
                                "(the shipped files stay as they are).")
    if out is not None and not dry_run:
        shutil.copytree(path if path.is_dir() else path.parent, out, dirs_exist_ok=True)
        path = Path(out)
    runtime = load(path)
    if not callable(getattr(runtime, "calibrate", None)):
        raise InvalidInputError(f"{path} is a {runtime.task_name} model, which has no rejection threshold to "
                                "calibrate (keyword spotters do).")
    clips, labels, _ = load_keyword_folder(folder, runtime.class_names, runtime.clip_samples, runtime.sample_rate)
    result = runtime.calibrate(clips, labels, false_accepts, save=not dry_run)
    result |= {"model": str(path), "clips": int(len(labels)), "written": not dry_run}
    if as_json:
        import json

        click.echo(json.dumps(result))
        return
    for when, threshold in (("before", result["previous"]), ("after", result["threshold"])):
        r = result[when]
        keywords = "-" if r["keyword_accuracy"] is None else f"{r['keyword_accuracy']:.1f}%"
        console.print(f"threshold {threshold:.2f}: keywords recognised {keywords}, other words taken for "
                      f"keywords {r['false_accepts_unknown']:.1f}%, accuracy {r['accuracy_with_threshold']:.1f}% "
                      f"({len(labels)} clips)")
    console.print(f"{'Wrote' if not dry_run else 'Would write'} threshold {result['threshold']:.2f} "
                  f"(was {result['previous']:.2f}) into {path}/model.json")
