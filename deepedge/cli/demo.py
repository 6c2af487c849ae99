"""`deepedge demo [NAME]`: the shipped models on device over held-out data, tables and pictures."""

from pathlib import Path

import click

from deepedge.cli.common import console
from deepedge.errors import InvalidInputError
from deepedge.fileio import check_output_path


def demo_names():
    """`{demo name: [families]}` in registry order."""
    from deepedge.registry import families

    names = {}
    for family in families():
        if family.demo_name:
            names.setdefault(family.demo_name, []).append(family)
    return names


@click.command("demo")
@click.argument("name", default="all")
@click.option("--out", type=click.Path(file_okay=False), default="demo_output", show_default=True,
              help="Folder for the pictures.")
@click.option("--limit", type=click.IntRange(min=1),
              help="Evaluate on the first N test examples (language: test chapters) only.")
def command(name, out, limit):
    """Run the shipped models on device over held-out data; print tables, draw pictures.

    NAME is `all` (the default) or the demo of one family (an unknown name lists them): each
    runs that family's shipped models on held-out data.
    """
    check_output_path(out)
    names = demo_names()
    if name != "all" and name not in names:
        raise InvalidInputError(f"No demo named {name!r}. Expected 'all' or one of {sorted(names)}.")
    Path(out).mkdir(parents=True, exist_ok=True)
    for demo_name, families in names.items():
        if name in ("all", demo_name):
            for family in families:
                family.demo(Path(out), limit=limit, console=console)
