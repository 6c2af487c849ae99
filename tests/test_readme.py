"""The README's Python quickstart runs as written."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.slow
def test_readme_quickstart_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "README has no Python quickstart"
    code = blocks[0].replace("/tmp/", f"{tmp_path}/")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'passed': True" in result.stdout


@pytest.mark.slow
def test_readme_scene_quickstart_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = [b for b in blocks if "SceneLabeller" in b][0].replace("/tmp/", f"{tmp_path}/")
    code = code.replace('load("saved_models/', f'load("{README.parent}/saved_models/')
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "(1, 100, 60, 9)" in result.stdout and "(320, 320) (320, 320, 3)" in result.stdout
    assert "True" in result.stdout


@pytest.mark.slow
def test_readme_speech_quickstart_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = [b for b in blocks if "KeywordSpotter" in b][0].replace("/tmp/", f"{tmp_path}/")
    code = code.replace('load("saved_models/', f'load("{README.parent}/saved_models/')
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "(2, 22)" in result.stdout and "True [1, 16000]" in result.stdout and " s: " in result.stdout


@pytest.mark.slow
def test_readme_own_keras_model_quickstart_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = [b for b in blocks if "export_model" in b][0].replace("/tmp/", f"{tmp_path}/")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'passed': True" in result.stdout and "'litert_int8'" in result.stdout
    assert (tmp_path / "my_model" / "model.tflite").exists() and (tmp_path / "my_model" / "card.md").exists()
