"""The README's Python quickstarts run as written."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def run_readme_block(tmp_path, marker=None):
    """Runs the README's first Python block, or its first holding `marker`, in a fresh Python
    with `/tmp/` pointing into `tmp_path` and the shipped models found from any folder; returns
    its standard output after checking it succeeded."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "README has no Python quickstart"
    code = blocks[0] if marker is None else next(b for b in blocks if marker in b)
    code = code.replace("/tmp/", f"{tmp_path}/").replace('load("saved_models/', f'load("{README.parent}/saved_models/')
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
def test_readme_quickstart_runs(tmp_path):
    assert "'passed': True" in run_readme_block(tmp_path)


@pytest.mark.slow
def test_readme_scene_quickstart_runs(tmp_path):
    out = run_readme_block(tmp_path, "SceneLabeller")
    assert "(1, 100, 60, 9)" in out and "(320, 320) (320, 320, 3)" in out
    assert "True" in out


@pytest.mark.slow
def test_readme_speech_quickstart_runs(tmp_path):
    out = run_readme_block(tmp_path, "KeywordSpotter")
    assert "(2, 22)" in out and "True [1, 16000]" in out and " s: " in out


@pytest.mark.slow
def test_readme_own_keras_model_quickstart_runs(tmp_path):
    out = run_readme_block(tmp_path, "export_model")
    assert "'passed': True" in out and "'litert_int8'" in out
    assert (tmp_path / "my_model" / "model.tflite").exists() and (tmp_path / "my_model" / "card.md").exists()
