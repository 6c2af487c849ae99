"""The registry and the family interface: every family is found by task, preset and file, without
TensorFlow, and a new family plugs into the tools with a registry entry and a folder alone."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from deepedge import registry
from deepedge.errors import ModelFileError, PresetNotFoundError


def test_every_preset_and_runtime_is_found_without_importing_tensorflow():
    code = ("import sys\n"
            "from deepedge import registry\n"
            "found = {p: f.task_name for f in registry.families() for p in f.presets()}\n"
            "assert all(registry.family_of_preset(p).task_name == t for p, t in found.items())\n"
            "runtimes = [registry.runtime_class(t).__name__ for t in registry.TASKS]\n"
            "assert not [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
            "print(len(found), len(runtimes))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    presets, runtimes = map(int, result.stdout.split())
    assert presets >= 20 and runtimes == len(registry.TASKS)


@pytest.mark.parametrize("task_name", sorted(registry.TASKS))
def test_each_family_agrees_with_its_keras_task_and_runtime(task_name):
    family = registry.family(task_name)
    task = family.keras_task()
    assert (task.task_name, task.family) == (family.task_name, family.family)
    assert {task.__name__, *(c.__name__ for c in task.__subclasses__())} & set(family.keras_classes)
    assert registry.runtime_class(task_name).__module__.startswith("deepedge.runtime.")
    assert family.data_names and family.title
    for name, spec in family.recipes.items():
        assert spec["architecture"] in family.architectures, name
        assert spec["data"] in family.data_names, name
    assert set(task.presets()) == set(family.presets())


def test_unknown_tasks_and_presets_get_errors_that_list_what_exists():
    with pytest.raises(ModelFileError, match="knows"):
        registry.family("no_such_task")
    with pytest.raises(PresetNotFoundError, match="fashion_edgenet"):
        registry.family_of_preset("no_such_preset")


@pytest.fixture
def toy_family(tmp_path):
    registry.register("toy_digits", "toy_family.family:ToyDigits", "deepedge.runtime.image_classifier:EdgeImageClassifier")
    family = registry.family("toy_digits")
    family.model_dir = tmp_path / "toy"
    yield family
    registry.unregister("toy_digits")


@pytest.mark.slow
def test_a_new_family_plugs_into_info_train_evaluate_export_and_demo(toy_family, tmp_path):
    from deepedge.cli import cli

    runner = CliRunner()
    out = toy_family.model_dir
    info = runner.invoke(cli, ["info"], terminal_width=200)
    assert info.exit_code == 0 and "toy_digits" in info.output and "Toy digits" in info.output
    trained = runner.invoke(cli, ["train", "toy_digits", "--out", str(out), "--epochs", "20"])
    assert trained.exit_code == 0, trained.output
    assert (out / "model.keras").exists() and (out / "model.tflite").exists()  # train exports as well
    meta = json.loads((out / "model.json").read_text())
    assert meta["task"] == "toy_digits" and meta["metrics"]["passed"] and (out / "card.md").exists()
    float_eval = runner.invoke(cli, ["evaluate", str(out / "model.keras"), "--json"])
    edge_eval = runner.invoke(cli, ["evaluate", str(out), "--json"])
    assert float_eval.exit_code == 0 and edge_eval.exit_code == 0, (float_eval.output, edge_eval.output)
    keras_value, edge_value = json.loads(float_eval.output)["value"], json.loads(edge_eval.output)["value"]
    assert keras_value > 85 and abs(keras_value - edge_value) <= 2.0
    assert json.loads(edge_eval.output)["kind"] == "litert_int8"
    exported = runner.invoke(cli, ["export", str(out / "model.keras"), "--out", str(tmp_path / "again"),
                                   "--quantization", "float32"])
    assert exported.exit_code == 0, exported.output
    assert json.loads((tmp_path / "again" / "model.json").read_text())["quantization"] == "float32"
    demo = runner.invoke(cli, ["demo", "toy", "--out", str(tmp_path / "demo")])
    assert demo.exit_code == 0 and "toy digits on device: accuracy" in demo.output, demo.output
