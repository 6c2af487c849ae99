"""`deepedge predict`: scenes from any picture and speech from any WAV, with clear errors for
bad files."""

import subprocess
import sys

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from deepedge.ops.audio import SAMPLE_RATE, write_wav
from helpers import tone, wav_bytes


@pytest.mark.slow
def test_cli_predict_scene_needs_no_tensorflow_and_explains_bad_images(nuclei_export, tmp_path):
    from PIL import Image

    path = nuclei_export[1]
    picture = tmp_path / "cells.png"
    Image.fromarray(nuclei_export[3].images[0, :, :200, 0]).convert("RGB").save(picture)
    script = ("import sys\n"
              "from deepedge.cli import main\n"
              f"sys.argv = ['deepedge', 'predict', 'scene', {str(picture)!r}, '--model', {str(path)!r}]\n"
              "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
              "heavy = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
              "assert not heavy, heavy\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "nucleus" in result.stdout and "background" in result.stdout
    overlay = np.asarray(Image.open(tmp_path / "cells_labels.png"))
    assert overlay.shape == (128, 200, 3)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = subprocess.run([sys.executable, "-m", "deepedge.cli", "predict", "scene", str(broken), "--model",
                             str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "is not an image" in " ".join(result.stderr.split())


@pytest.mark.slow
def test_cli_predict_speech_reads_any_wav_and_explains_bad_files(exported_spotter, tmp_path):
    from click.testing import CliRunner

    from deepedge.cli import cli

    stereo = tmp_path / "stereo.wav"
    stereo.write_bytes(wav_bytes(np.stack([tone(300, 0.8, 44100)] * 2, 1), 44100))
    runner = CliRunner()
    result = runner.invoke(cli, ["predict", "speech", str(stereo), "--model", str(exported_spotter[0]),
                                 "--out", str(tmp_path / "p.png")])
    assert result.exit_code == 0, result.output
    assert "stereo.wav: 0.80 s ->" in result.output and (tmp_path / "p.png").stat().st_size > 1000
    long = tmp_path / "long.wav"
    write_wav(long, np.zeros(3 * SAMPLE_RATE, np.float32))
    result = runner.invoke(cli, ["predict", "speech", str(long), "--model", str(exported_spotter[0])])
    assert result.exit_code == 0 and "streamed in 1-second windows" in result.output
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF....WAVEjunk")
    result = runner.invoke(cli, ["predict", "speech", str(corrupt), "--model", str(exported_spotter[0])])
    assert isinstance(result.exception, InvalidInputError) and "corrupt" in str(result.exception)
