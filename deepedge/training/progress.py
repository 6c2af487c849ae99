"""A progress bar for `fit_resumable`: one bar per epoch, numbered out of the whole run."""

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from deepedge.backend import keras


class EpochProgress(keras.callbacks.Callback):
    """Shows `epoch k/N` with a bar over its steps, then one summary line per epoch.

    Keras's own progress bar, given `initial_epoch`, numbers each resumed `fit` call out of
    itself ("Epoch 5/5"); this one knows the run's total.
    """

    def __init__(self, epoch, epochs, steps, console=None):
        super().__init__()
        self.epoch, self.epochs, self.steps = epoch, epochs, steps
        self.console = console or Console(stderr=True)
        self._progress = None

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()
        self._progress = Progress(TextColumn(f"epoch {self.epoch + 1}/{self.epochs}"), BarColumn(),
                                  MofNCompleteColumn(), TextColumn("{task.fields[metrics]}"),
                                  TimeRemainingColumn(), console=self.console, transient=True)
        self._progress.start()
        self._bar = self._progress.add_task("train", total=self.steps, metrics="")

    def on_train_batch_end(self, batch, logs=None):
        metrics = "  ".join(f"{k} {float(v):.4f}" for k, v in (logs or {}).items())
        self._progress.update(self._bar, completed=batch + 1, metrics=metrics)

    def on_train_end(self, logs=None):
        self._progress.stop()

    def on_epoch_end(self, epoch, logs=None):
        metrics = "  ".join(f"{k} {float(v):.4f}" for k, v in (logs or {}).items())
        self.console.print(f"epoch {self.epoch + 1}/{self.epochs}  {time.perf_counter() - self._started:.0f}s  {metrics}",
                           highlight=False, soft_wrap=True)
