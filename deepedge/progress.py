"""Progress bars for long loops in the CLI and the demo (rich only; no TensorFlow)."""

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


def progress_bar(console=None):
    """A transient bar on stderr: description, bar, done/total, time left."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console or Console(stderr=True), transient=True)


def map_in_chunks(func, items, description, chunk=500):
    """Runs `func` over `items` in chunks with a progress bar; concatenates the results."""
    results = []
    with progress_bar() as progress:
        bar = progress.add_task(description, total=len(items))
        for i in range(0, len(items), chunk):
            results.append(func(items[i:i + chunk]))
            progress.advance(bar, len(items[i:i + chunk]))
    return np.concatenate(results)
