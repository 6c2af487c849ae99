"""`deepedge`: train, evaluate, export, benchmark, calibrate, predict with and demo the models.

One module per command. None of them names a family: each asks `deepedge.registry` for the
`Family` that serves a model (by the task its `model.json` records, or the class its `.keras`
file records) or a preset, and calls its interface. Commands that need Keras import it only
when they run, so `deepedge --help`, `info` and `bench` on an exported model start fast and
work with `deepedge[edge]` alone.
"""

import sys

import click
from rich.text import Text

from deepedge.cli.common import console, err_console
from deepedge.errors import DeepEdgeError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="deepedge")
def cli():
    """deepedge: Keras applications of the Nature 'Deep learning' review, shipped as int8 LiteRT."""


def _add_commands():
    from deepedge.cli import bench, demo, doctor, evaluate, export, info, predict, report, serve, train
    from deepedge.registry import families

    for module in (train, export, doctor, evaluate, bench, info, report, demo, predict, serve):
        cli.add_command(module.command)
    for family in families():  # the commands a family adds of its own (`Family.commands`)
        for command in family.commands():
            cli.add_command(command)


_add_commands()


def print_error(message):
    """One line on stderr, never wrapped (rich wraps at 80 columns when stderr is no terminal)."""
    text = Text("error:", style="bold red")
    text.append(" " + " ".join(str(message).split()))
    err_console.print(text, soft_wrap=True, highlight=False)


def main():
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("Aborted.")
        sys.exit(130)
    except click.ClickException as e:
        hint = ""
        if isinstance(e, click.UsageError) and e.ctx is not None:
            hint = f" (`{e.ctx.command_path} --help` for usage)"
        print_error(f"{e.format_message()}{hint}")
        sys.exit(e.exit_code)
    except DeepEdgeError as e:
        print_error(f"{type(e).__name__}: {e}")
        sys.exit(2)


__all__ = ["cli", "console", "main"]

if __name__ == "__main__":
    main()
