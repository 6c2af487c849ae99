"""The README's language-model quickstart runs as written (its own file: it exports the shipped
8M-parameter LSTM, the longest README block, so a test worker takes it apart from the others)."""

import pytest

from test_readme import run_readme_block


@pytest.mark.slow
def test_readme_language_quickstart_runs(tmp_path):
    out = run_readme_block(tmp_path, "LSTMLanguageModel")
    assert "It is a truth" in out and "'h0'" in out
