"""What this machine's CPU is and can do, read once from /proc/cpuinfo (numpy-free, TF-free):
the model cards name it, and the training precision depends on its bfloat16 instructions."""

import functools
import platform
from pathlib import Path


@functools.cache
def _cpuinfo():
    """`(model name or None, flags)` of the first processor in /proc/cpuinfo; `(None, frozenset())`
    where there is none (macOS, Windows)."""
    name, flags = None, frozenset()
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return name, flags
    for line in lines:
        if line.startswith("model name") and name is None:
            name = line.split(":", 1)[1].strip()
        elif line.startswith("flags") and not flags:
            flags = frozenset(line.split(":", 1)[1].split())
    return name, flags


def cpu_name():
    """The CPU's model name, e.g. 'AMD EPYC 9B14' (the platform's processor name without /proc/cpuinfo)."""
    return _cpuinfo()[0] or platform.processor() or platform.machine()


def cpu_flags():
    """The CPU's feature flags (`avx2`, `avx512f`, `amx_bf16`, ...); empty where unknown."""
    return _cpuinfo()[1]


__all__ = ["cpu_flags", "cpu_name"]
