"""Silences what native libraries print straight to the process's stdout/stderr.

TensorFlow's converter and LiteRT's XNNPACK delegate write lines such as
"INFO: Created TensorFlow Lite XNNPACK delegate for CPU." from C++, below Python's
`sys.stdout`; only redirecting file descriptors 1 and 2 keeps them off a user's terminal.
What was captured is returned, so errors can still quote it.

File descriptors belong to the whole process, so one lock serialises the redirections: two
threads swapping them at once would restore each other's saved copies and leave stdout and
stderr pointing into a deleted file. While a block runs, other threads' output to fds 1 and 2
is captured with it.
"""

import contextlib
import os
import sys
import tempfile
import threading

_REDIRECTING = threading.RLock()


@contextlib.contextmanager
def native_output_silenced():
    """Redirects fds 1 and 2 to a temporary file for the duration; yields a list that
    receives the captured text when the block ends. Thread-safe (blocks run one at a time)."""
    with _REDIRECTING:
        with _silenced() as captured:
            yield captured


@contextlib.contextmanager
def _silenced():
    captured = []
    try:
        saved = [os.dup(1), os.dup(2)]
    except OSError:  # no real file descriptors (an embedded interpreter): nothing to silence
        yield captured
        return
    with tempfile.TemporaryFile(mode="w+b") as sink:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", "replace"))
