"""The README's language-model quickstart runs as written (its own file: it exports the shipped
8M-parameter LSTM, the longest README block, so a test worker takes it apart from the others)."""

import re
import subprocess
import sys

import pytest

from test_readme import README


@pytest.mark.slow
def test_readme_language_quickstart_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = [b for b in blocks if "LSTMLanguageModel" in b][0].replace("/tmp/", f"{tmp_path}/")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "It is a truth" in result.stdout and "'h0'" in result.stdout
