"""Plain helpers that test files in several folders import (fixtures live in conftest.py).

They sit here, not in a conftest.py: with one conftest.py per folder, `from conftest import`
would find whichever conftest pytest loaded last.
"""

import os
import struct
import subprocess
import sys

import numpy as np


# === Image recognition ===

def build_tiny_classifier(class_names, seed=0):
    """A narrow edge net for the 8x8 digits (about 4,000 weights)."""
    from deepedge.apps import ImageClassifier
    from deepedge.apps.image_recognition import EdgeNetBackbone
    from deepedge.backend import keras

    keras.utils.set_random_seed(seed)
    backbone = EdgeNetBackbone(image_shape=(8, 8, 1), stem_filters=8, block_filters=(16, 24),
                               block_strides=(2, 1))
    return ImageClassifier(backbone, class_names)


# === Audio ===

def wav_bytes(samples, rate, bits=16, float_format=False):
    """A WAV file in memory: samples (n,) or (n, channels) in [-1, 1]."""
    samples = np.asarray(samples, np.float64)
    samples = samples[:, None] if samples.ndim == 1 else samples
    channels = samples.shape[1]
    if float_format:
        data, code = samples.astype("<f4").tobytes(), 3
    elif bits == 8:
        data, code = np.round(samples * 127 + 128).astype(np.uint8).tobytes(), 1
    elif bits == 16:
        data, code = np.round(samples * 32767).astype("<i2").tobytes(), 1
    elif bits == 24:
        ints = (samples * (2 ** 23 - 1)).astype("<i4").ravel()
        data, code = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints), 1
    width = 4 if float_format else bits // 8
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, code, channels,
                         rate, rate * channels * width, channels * width, 32 if float_format else bits,
                         b"data", len(data))
    return header + data


def tone(freq, seconds, rate, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


# === The command line, in a fresh process ===

NOISE = ("oneDNN", "cuda", "tensorflow/", "absl::", "XNNPACK", "WARNING: All log messages", "I0000", "W0000")
DEEPEDGE = [sys.executable, "-m", "deepedge.cli"]


def run_cli(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "KERAS_"))}
    return subprocess.run(DEEPEDGE + [str(a) for a in args], capture_output=True, text=True, timeout=600, env=env)


def assert_quiet(result):
    for noise in NOISE:
        assert noise not in result.stderr and noise not in result.stdout, result.stderr
