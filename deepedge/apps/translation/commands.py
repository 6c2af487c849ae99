"""`deepedge translate TEXT --model FOLDER`: translate sentences on device (no TensorFlow)."""

import time

import click

from rich.console import Console

from deepedge.errors import InvalidInputError
from deepedge.presets import resolve_model


@click.command("translate")
@click.argument("text", nargs=-1)
@click.option("--model", default="de_en_attention", show_default=True,
              help="An exported translator folder or a shipped model name (es_en_attention: Spanish).")
@click.option("--file", "file", type=click.File("r", encoding="utf-8"),
              help="Translate every non-empty line of this file ('-' reads standard input).")
@click.option("--beam", type=click.IntRange(min=1), default=4, show_default=True,
              help="Beam width (1 decodes greedily).")
@click.option("--length-penalty", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="Beam hypotheses are ranked by log-probability / length ** this.")
def command(text, model, file, beam, length_penalty):
    """Translate TEXT (one sentence; '-' alone reads one sentence a line from standard input), or each line
    of --file, with an int8 translator in LiteRT."""
    from deepedge.ops.decoding import target_tokens
    from deepedge.progress import progress_bar
    from deepedge.runtime import load

    if text == ("-",) and file is None:  # the usual spelling of standard input, not a sentence
        text, file = (), click.get_text_stream("stdin")
    sentences = [" ".join(text)] if text else []
    if file is not None:
        sentences += [line.strip() for line in file if line.strip()]
    if not sentences:
        raise InvalidInputError("Nothing to translate: pass a sentence, or --file FILE ('-' for standard input).")
    runtime = load(resolve_model(model))
    if not callable(getattr(runtime, "translate", None)):
        raise InvalidInputError(f"{model} is a {runtime.task_name} model, which does not translate.")
    started, steps = time.perf_counter(), runtime.steps_run
    if len(sentences) == 1:
        translations = [runtime.translate(sentences[0], beam, length_penalty)]
    else:
        with progress_bar() as progress:
            bar = progress.add_task("Translating", total=len(sentences))
            translations = runtime.translate(sentences, beam, length_penalty,
                                             on_sentence=lambda n: progress.advance(bar, n))
    for translation in translations:
        click.echo(translation)
    seconds = time.perf_counter() - started
    words = target_tokens(runtime.target_tokenizer, translations)
    Console(stderr=True).print(f"[dim]{len(sentences)} sentence(s), {words} target tokens, "
                               f"{runtime.steps_run - steps} decoder steps of {runtime.decoder_rows} rows in "
                               f"{seconds * 1000:.0f} ms ({words / seconds:.0f} tokens/s) on "
                               f"{runtime.metadata['quantization']} LiteRT, 1 thread[/]")
