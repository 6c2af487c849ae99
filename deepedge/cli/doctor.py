"""`deepedge doctor MODEL.keras`: every reason a Keras model will not export to builtin-only int8, at once."""

import click
from deepedge.cli.common import console, err_console, print_json


@click.command("doctor")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--convert", is_flag=True, help="Also convert the model once in float32 with builtin ops only and list "
                                              "every op that would need Flex, with its layer.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(model, convert, as_json):
    """List every problem of a .keras model for a builtin-only int8 export, before converting it.

    Checks each layer: recurrent layers over whole sequences, free input dimensions, string
    inputs and text layers, half-precision policies, Lambda and custom layers, front ends whose
    ops stay float. Exits with status 1 when an error would stop `deepedge export`.
    """
    import dataclasses

    from deepedge.export.doctor import diagnose_file, format_problems

    with err_console.status("Loading the model in safe mode" + (" and converting it once..." if convert else "...")):
        _, problems = diagnose_file(model, convert=convert)
    errors = sum(problem.severity == "error" for problem in problems)
    if as_json:
        print_json({"model": model, "errors": errors, "problems": [dataclasses.asdict(p) for p in problems]})
    elif not problems:
        console.print(f"{model}: no problem found; export it with `deepedge export {model} --calibration ... "
                      "--out ...`.", markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(f"{model}: {errors} error(s), {len(problems) - errors} other finding(s)\n"
                      f"{format_problems(problems)}", markup=False, highlight=False, soft_wrap=True)
    if errors:
        raise SystemExit(1)
