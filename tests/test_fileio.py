"""deepedge.fileio: atomic writes keep the old file when a write fails; a folder is replaced whole."""

import json
import random
import signal
import subprocess
import sys
import time

import pytest

from deepedge.fileio import (_umask, atomic_path, atomic_write_json, folder_workspace, replace_folder,
                             swappable_folder)


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "model.json"
    atomic_write_json(target, {"v": 1})

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with atomic_path(target) as tmp:
            tmp.write_text("half a fi")
            raise Boom
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_a_killed_writers_leftovers_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "model.keras"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tmp_path / f".model.tmp{dead.stdout.strip()}-0badc0de.keras"
    leftover.write_bytes(b"half")
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
    assert not leftover.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_replace_folder_swaps_the_whole_folder_and_keeps_the_files_it_does_not_replace(tmp_path):
    path = tmp_path / "model"
    path.mkdir()
    (path / "model.keras").write_bytes(b"trained weights")
    (path / "model.tflite").write_bytes(b"old")
    (path / "model.json").write_text("old")
    new = folder_workspace(path)
    assert new.parent == tmp_path and new.name.startswith(".model.new")
    (new / "model.tflite").write_bytes(b"new")
    (new / "model.json").write_text("new")
    assert swappable_folder(path)
    replace_folder(new, path)
    assert (path / "model.keras").read_bytes() == b"trained weights"
    assert (path / "model.tflite").read_bytes() == b"new" and (path / "model.json").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # nothing left beside it
    assert oct(path.stat().st_mode & 0o777) == oct(0o777 & ~_umask())


@pytest.mark.parametrize("swap", [True, False])
def test_files_the_writer_owns_and_did_not_write_again_are_not_kept(tmp_path, swap):
    from deepedge.fileio import install_files

    path = tmp_path / "model"
    path.mkdir()
    for name in ("model.keras", "lookup_encode_source.npy", "lookup_decode_step_token.npy"):
        (path / name).write_bytes(b"old " + name.encode())
    new = folder_workspace(path)
    (new / "lookup_decode_step_token.npy").write_bytes(b"new")  # the export's tables, one renamed since
    (new / "lookup_encode_source_reversed.npy").write_bytes(b"new")
    (replace_folder if swap else install_files)(new, path, drop=("lookup_*.npy",))
    assert sorted(p.name for p in path.iterdir()) == [
        "lookup_decode_step_token.npy", "lookup_encode_source_reversed.npy", "model.keras"]
    assert (path / "model.keras").read_bytes() == b"old model.keras"
    assert (path / "lookup_decode_step_token.npy").read_bytes() == b"new"


def test_a_folder_with_subfolders_or_the_working_directory_is_not_swapped(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    assert not swappable_folder(tmp_path)
    monkeypatch.chdir(tmp_path / "sub")
    assert not swappable_folder(tmp_path / "sub") and not swappable_folder(".")
    assert swappable_folder(tmp_path / "absent")


_WRITER = """
import sys, time
from pathlib import Path
from deepedge.fileio import folder_workspace, replace_folder
path = Path(sys.argv[1])
generation = 0
while True:
    generation += 1
    new = folder_workspace(path)
    for name in ("model.tflite", "labels.txt", "model.json"):
        (new / name).write_text(str(generation) * 2000)
    replace_folder(new, path)
"""


@pytest.mark.slow
def test_kill_9_during_folder_replacement_leaves_one_whole_generation(tmp_path):
    """A writer replacing a folder in a loop is killed at random moments: the folder is always
    one generation's files, never a mix, and the next writer cleans the leftovers."""
    path = tmp_path / "export"
    rng = random.Random(0)
    seen = set()
    for _ in range(12):
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)])
        time.sleep(0.3 + rng.random() * 0.4)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        contents = {p.name: p.read_text() for p in path.iterdir()}
        assert sorted(contents) == ["labels.txt", "model.json", "model.tflite"]
        assert len(set(contents.values())) == 1, "files of different generations in one folder"
        seen.add(contents["model.json"])
    assert len(seen) > 1
    new = folder_workspace(path)  # the next writer removes what the killed ones left
    assert [p.name for p in tmp_path.iterdir() if p != new] == ["export"]
