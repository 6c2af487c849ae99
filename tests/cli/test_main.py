"""The `deepedge` command itself: its help and its one-line errors."""

from helpers import run_cli


def test_errors_are_one_clear_line_and_exit_2(tmp_path):
    result = run_cli("evaluate", tmp_path / "missing_model")
    assert result.returncode == 2
    assert "PresetNotFoundError" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "junk.tflite").write_bytes(b"junk")
    (tmp_path / "model.json").write_text("{}")
    result = run_cli("bench", tmp_path / "junk.tflite")
    assert result.returncode == 2 and "ModelFileError" in result.stderr and "Traceback" not in result.stderr


def test_help_lists_every_command():
    result = run_cli("--help")
    for command in ("train", "evaluate", "export", "bench", "info", "demo"):
        assert command in result.stdout
