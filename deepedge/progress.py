"""Progress bars for long loops in the CLI, the demo and the exporter (rich only; no TensorFlow)."""

import contextlib
import os

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


def progress_bar(console=None):
    """A transient bar on stderr: description, bar, done/total, time left; nothing when stderr
    is not a terminal (a log file gets no blank lines)."""
    console = console or Console(stderr=True)
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=True, disable=not console.is_terminal)


def map_in_chunks(func, items, description, chunk=500):
    """Runs `func` over `items` in chunks with a progress bar; concatenates the results."""
    results = []
    with progress_bar() as progress:
        bar = progress.add_task(description, total=len(items))
        for i in range(0, len(items), chunk):
            results.append(func(items[i:i + chunk]))
            progress.advance(bar, len(items[i:i + chunk]))
    return np.concatenate(results)


@contextlib.contextmanager
def stderr_console():
    """A console on a copy of the process's stderr taken now, so that bars drawn on it stay
    visible while a native library's output is silenced (`deepedge.quiet` redirects file
    descriptor 2 while the converter runs int8 calibration)."""
    try:
        fd = os.dup(2)
    except OSError:  # no real file descriptors (an embedded interpreter)
        yield Console(stderr=True)
        return
    with os.fdopen(fd, "w") as stream:
        yield Console(file=stream)


class ProgressIterable:
    """`items` (a list) that draws a progress bar on `console` each time it is iterated:
    the converter walks its calibration samples once per pass.

    Args:
        items: list. What the iteration yields.
        description: str. The bar's label.
        console: a rich `Console` (`stderr_console()` for one that survives silencing).
    """

    def __init__(self, items, description, console=None):
        self.items, self.description, self.console = list(items), description, console

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        with progress_bar(self.console) as progress:
            bar = progress.add_task(self.description, total=len(self.items))
            for item in self.items:
                yield item
                progress.advance(bar)
