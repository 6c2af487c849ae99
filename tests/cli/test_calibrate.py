"""`deepedge calibrate`: a keyword spotter's threshold from a folder of recordings."""

import json

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from deepedge.ops.audio import write_wav


@pytest.mark.slow
def test_cli_calibrates_a_spotter_from_a_folder_of_recordings(exported_spotter, tiny_keywords, tmp_path):
    """A Speech Commands style folder (word folders of WAVs) sets the threshold of a copy; the
    source model is untouched and the copy loads with it."""
    from click.testing import CliRunner

    from deepedge.cli import cli
    from deepedge.edge import load
    from deepedge.ops.keywords import load_keyword_folder

    data = tiny_keywords["validation"]
    recordings = tmp_path / "recordings"
    for i, (clip, label) in enumerate(zip(data.audio, data.labels)):
        word = data.utterances.texts[i] or "_silence_"
        write_wav(recordings / word / f"{i}.wav", clip.astype(np.float32) / 32768.0)
    clips, labels, paths = load_keyword_folder(recordings, data.class_names)
    assert len(clips) == len(data) and sorted(labels.tolist()) == sorted(data.labels.tolist())
    source = exported_spotter[0]
    before = json.loads((source / "model.json").read_text())
    copy = tmp_path / "calibrated"
    result = CliRunner().invoke(cli, ["calibrate", str(source), str(recordings), "--out", str(copy),
                                      "--false-accepts", "0", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["after"]["false_accepts_unknown"] == 0.0 and report["written"]
    assert json.loads((source / "model.json").read_text()) == before
    calibrated = load(copy)
    assert calibrated.threshold == report["threshold"] and calibrated.metadata["threshold_calibration"]["clips"] == len(data)
    shipped = CliRunner().invoke(cli, ["calibrate", "kws_dscnn", str(recordings)])
    assert isinstance(shipped.exception, InvalidInputError) and "--out" in str(shipped.exception)
    empty = tmp_path / "empty"
    (empty / "yes").mkdir(parents=True)
    bad = CliRunner().invoke(cli, ["calibrate", str(source), str(empty), "--dry-run"])
    assert isinstance(bad.exception, InvalidInputError) and "No WAV files" in str(bad.exception)
