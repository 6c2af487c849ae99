"""The property every fuzz target holds, shared by the property tests (tests/properties) and the
fuzzing benchmark (benchmarks/fuzz.py):

    whatever it is given, an entry point returns a valid result (the right type and shape,
    finite values in range) or raises a `deepedge.errors.DeepEdgeError` with a message;
    never another exception (ValueError, TypeError, IndexError...), a NaN, or a crash.

A `Target` names one entry point: the strategy of its examples, how to call it, and how to
tell a valid result. The targets live in `fuzz_runtime_targets` (the shipped models, loaded
with `deepedge.edge.load`) and `fuzz_io_targets` (readers, tokenizers, decoders, model.json).
"""

import dataclasses
import json
import math
import shutil
from pathlib import Path
from typing import Callable

import numpy as np

from deepedge.errors import DeepEdgeError

VALID, REFUSED = "valid", "refused"


@dataclasses.dataclass(frozen=True)
class Target:
    """One entry point under test.

    Args:
        name: `"model.method"` or `"module.function"`.
        group: which test file runs it: runtime, readers, tokenizers, decoders or model_json.
        strategy: `(resources) -> SearchStrategy` of examples.
        call: `(resources, example) -> result` (an iterator is consumed by `check_example`).
        check: `(resources, example, result) -> None`, or a string saying what is wrong.
        examples: examples in the property tests (the benchmark takes `--examples`).
        expect_valid: whether the property tests' examples must include a valid one (a check
            that the strategy reaches past the argument checks).
    """

    name: str
    group: str
    strategy: Callable
    call: Callable
    check: Callable
    examples: int = 40
    expect_valid: bool = True


class Resources:
    """Shipped models, each loaded once, tokenizers read from their model.json, and a work folder."""

    def __init__(self, workdir):
        from deepedge.presets import saved_models_dir

        self.saved_models = saved_models_dir()
        self.workdir = Path(workdir)
        self._cache = {}

    def _cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def model(self, name):
        from deepedge.edge import load

        return self._cached(("model", name), lambda: load(self.saved_models / name))

    def metadata(self, name):
        """The shipped model.json of `name` as a dict (callers must not change it)."""
        return self._cached(("json", name), lambda: json.loads((self.saved_models / name / "model.json").read_text()))

    def tokenizer(self, name, key="tokenizer"):
        from deepedge.tokenizers import Tokenizer

        return self._cached(("tokenizer", name, key), lambda: Tokenizer.from_config(self.metadata(name)[key]))

    def model_copy(self, name):
        """A folder holding a copy of `name`'s files but model.json, for a test to write its own."""
        def copy():
            folder = self.workdir / f"copy_of_{name}"
            folder.mkdir(parents=True, exist_ok=True)
            for path in (self.saved_models / name).iterdir():
                if path.suffix in (".tflite", ".npz", ".npy"):  # .npy: lifted lookup tables
                    shutil.copy(path, folder / path.name)
            return folder

        return self._cached(("copy", name), copy)


def consume(result):
    """A generator's items as a list (a lazy entry point's errors surface when it is iterated)."""
    if hasattr(result, "__next__"):
        return list(result)
    return result


def check_example(target, resources, example):
    """Runs `target` on `example`: returns VALID or REFUSED; raises anything else (the entry
    point's own exception, or AssertionError saying what is wrong with its result)."""
    try:
        result = consume(target.call(resources, example))
    except DeepEdgeError as error:
        assert str(error).strip(), f"{type(error).__name__} raised without a message"
        return REFUSED
    problem = target.check(resources, example, result)
    assert problem is None, f"{target.name} returned an invalid result: {problem}"
    return VALID


def run_property(target, resources, settings):
    """The property tests' loop: `check_example` on the examples `settings` allow (the first
    failing one is shrunk and raised by hypothesis); returns the count of each outcome."""
    from hypothesis import given

    counts = {VALID: 0, REFUSED: 0}

    @settings
    @given(target.strategy(resources))
    def valid_or_refused(example):
        counts[check_example(target, resources, example)] += 1

    valid_or_refused()
    return counts


# === Checks of results: None when fine, else what is wrong ===

def array_problem(value, shape=None, kinds="f", low=-math.inf, high=math.inf):
    """What is wrong with `value` as a numpy array of `shape` (None for any axis), a dtype of
    one of `kinds`, finite values in [low, high]; None when nothing is."""
    if not isinstance(value, np.ndarray):
        return f"expected a numpy array, got {type(value).__name__}"
    if value.dtype.kind not in kinds:
        return f"expected dtype kind {kinds!r}, got {value.dtype}"
    if shape is not None and (len(shape) != value.ndim or any(s is not None and s != d for s, d in
                                                              zip(shape, value.shape))):
        return f"expected shape {shape}, got {value.shape}"
    if value.size and not np.all(np.isfinite(value)):
        return "holds NaN or infinite values"
    if value.size and (value.min() < low or value.max() > high):
        return f"values from {value.min()} to {value.max()}, outside [{low}, {high}]"
    return None


def probabilities_problem(value, classes, ndim=2):
    """`value` as probabilities: (..., classes), finite, in [0, 1], each row summing to about 1."""
    problem = array_problem(value, (None,) * (ndim - 1) + (classes,), low=0.0, high=1.0)
    if problem is None and value.size and not np.allclose(value.sum(-1), 1.0, atol=0.05):
        return f"rows sum to {value.sum(-1).min()}..{value.sum(-1).max()}, not 1"
    if problem is None and value.shape[0] == 0:
        return "an empty batch came back"
    return problem


def labels_problem(value, names, top_k):
    """`value` as `classify`'s answer: per item, the min(top_k, len(names)) best (name, probability)."""
    if not isinstance(value, list) or not value:
        return f"expected a non-empty list, got {value!r:.80}"
    for pairs in value:
        if len(pairs) != min(top_k, len(names)):
            return f"expected {min(top_k, len(names))} labels per item, got {len(pairs)}"
        for name, probability in pairs:
            if name not in names or not isinstance(probability, float) or not 0.0 <= probability <= 1.0:
                return f"bad label pair {(name, probability)!r}"
        if [p for _, p in pairs] != sorted((p for _, p in pairs), reverse=True):
            return "labels not best first"
    return None


def text_problem(value, alphabet=None):
    if not isinstance(value, str):
        return f"expected a string, got {type(value).__name__}"
    if alphabet is not None and set(value) - set(alphabet):
        return f"characters outside the alphabet: {sorted(set(value) - set(alphabet))}"
    return None


def texts_problem(value, count=None):
    if not isinstance(value, list) or (count is not None and len(value) != count):
        return f"expected a list of {count} strings, got {value!r:.80}"
    return next((text_problem(v) for v in value if text_problem(v)), None)


def first_problem(*problems):
    return next((p for p in problems if p), None)


def all_targets():
    """Every target, by name."""
    import fuzz_io_targets
    import fuzz_runtime_targets

    targets = fuzz_runtime_targets.TARGETS + fuzz_io_targets.TARGETS
    names = [t.name for t in targets]
    assert len(set(names)) == len(names), "two targets share a name"
    return {t.name: t for t in targets}


def targets_of(group):
    return [t for t in all_targets().values() if t.group == group]


def check_target(target, resources, settings):
    """The property test of one target: every example a valid result or a DeepEdgeError, and
    (where the target expects some) at least one valid result."""
    counts = run_property(target, resources, settings(target.examples))
    assert counts["valid"] or not target.expect_valid, f"{target.name}: no example reached a result ({counts})"
