"""`deepedge`: train, evaluate, export, benchmark, calibrate, predict with and demo the models.

One module per command. None of them names a family: each asks `deepedge.registry` for the
`Family` that serves a model (by the task its `model.json` records, or the class its `.keras`
file records) or a preset, and calls its interface. Commands that need Keras import it only
when they run, so `deepedge --help`, `info` and `bench` on an exported model start fast and
work with `deepedge[edge]` alone.
"""

import sys

import click

from deepedge.cli.common import console, err_console
from deepedge.errors import DeepEdgeError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="deepedge")
def cli():
    """deepedge: Keras applications of the Nature 'Deep learning' review, shipped as int8 LiteRT."""


def _add_commands():
    from deepedge.cli import bench, demo, evaluate, export, info, predict, train
    from deepedge.registry import families

    for module in (train, export, evaluate, bench, info, demo, predict):
        cli.add_command(module.command)
    for family in families():  # the commands a family adds of its own (`Family.commands`)
        for command in family.commands():
            cli.add_command(command)


_add_commands()


def main():
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("Aborted.")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except DeepEdgeError as e:
        err_console.print(f"[bold red]error:[/] {type(e).__name__}: {e}", highlight=False)
        sys.exit(2)


__all__ = ["cli", "console", "main"]

if __name__ == "__main__":
    main()
