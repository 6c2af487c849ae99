"""deepedge.fileio: atomic writes keep the old file when a write fails."""

import json

import pytest

from deepedge.fileio import atomic_path, atomic_write_json


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
