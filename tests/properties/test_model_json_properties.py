"""Property tests of model.json parsing (issue 23): `read_metadata` and `deepedge.edge.load` on
random JSON documents (any value, documents shaped like model.json with random fields, invalid
UTF-8, deep nesting), and on mutations of the shipped model.json of seven models (a field set
to a nearby or random value, removed or added), each written beside a copy of its `.tflite`.
Each load gives a model that answers a plain input validly, or raises a `DeepEdgeError`:
never another exception, and never a model that answers with NaN (targets in
`fuzz_io_targets.py`)."""

import json

import pytest

from deepedge.edge import load
from fuzz_core import check_target, targets_of
from fuzz_io_targets import MUTATED, SMOKE


@pytest.mark.parametrize("target", targets_of("model_json"), ids=lambda target: target.name)
def test_a_valid_result_or_a_deepedge_error(target, resources, properties_settings):
    check_target(target, resources, properties_settings)


@pytest.mark.parametrize("name", MUTATED)
def test_the_unchanged_model_json_loads_in_the_copied_folder(resources, name):
    folder = resources.model_copy(name)
    (folder / "model.json").write_text(json.dumps(resources.metadata(name)))
    model = load(folder)
    assert SMOKE[type(model).__name__](model) is None
