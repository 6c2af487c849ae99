"""deepedge.data.speech.voices: the synthetic speakers, their splits and the synthesisers."""

import numpy as np

from deepedge.ops.audio import SAMPLE_RATE


def test_speakers_are_many_and_never_shared_between_splits():
    from deepedge.data.speech import speakers

    names = {split: {v.name for v in speakers(split)} for split in ("train", "validation", "test")}
    assert len(names["train"]) >= 50 and len(names["test"]) >= 50
    assert not names["train"] & names["test"] and not names["train"] & names["validation"]
    variants = {split: {n.split("+")[-1] for n in names[split] if "+" in n} for split in names}
    assert not variants["train"] & variants["test"]  # a test voice variant never speaks in training


def test_natural_voices_stay_in_their_split():
    from deepedge.data.speech import natural_speakers, speakers
    from deepedge.data.speech.keywords import _plan

    train = {v.name for v in natural_speakers("train")}
    assert train == {"flite:kal", "flite:kal16", "flite:awb"}
    assert not train & {v.name for split in ("validation", "test") for v in natural_speakers(split)}
    even = _plan("train", 40, 2017)
    assert {p[2] for p in even} <= set(speakers("train"))
    assert sum(p[2].name in train for p in even) < 0.05 * len(even)  # an even draw over 411 speakers


def test_flite_pitch_and_speed_follow_the_arguments():
    from deepedge.data.speech import Voice, synthesize

    voice = Voice("flite", "kal")
    low, again = synthesize("seven", voice, pitch=0.0), synthesize("seven", voice, pitch=0.0)
    high, slow = synthesize("seven", voice, pitch=1.0), synthesize("seven", voice, speed=0.7)
    assert np.array_equal(low, again) and 0.2 * SAMPLE_RATE < len(low) < SAMPLE_RATE
    assert len(slow) > 1.25 * len(low)

    def median_f0(x):  # autocorrelation peak at 60-400 Hz in the loudest 40 ms frames
        frames = np.lib.stride_tricks.sliding_window_view(x, 640)[::320]
        loud = frames[np.argsort((frames ** 2).sum(1))[-len(frames) // 3:]]
        lags = [40 + np.argmax([f[:-lag] @ f[lag:] for lag in range(40, 267)]) for f in loud]
        return SAMPLE_RATE / np.median(lags)

    assert median_f0(high) > 1.3 * median_f0(low)


def test_synthesis_is_deterministic_and_engines_differ():
    from deepedge.data.speech import Voice, synthesize

    a = synthesize("seven", Voice("espeak-ng", "en-us", "f2"), speed=1.1, pitch=0.6)
    b = synthesize("seven", Voice("espeak-ng", "en-us", "f2"), speed=1.1, pitch=0.6)
    c = synthesize("seven", Voice("flite", "slt"))
    assert np.array_equal(a, b) and 0.2 * SAMPLE_RATE < len(a) < 1.0 * SAMPLE_RATE
    assert 0.2 * SAMPLE_RATE < len(c) < 1.0 * SAMPLE_RATE and np.abs(c).max() > 0.05
    slow = synthesize("seven", Voice("espeak-ng", "en-us", "f2"), speed=0.75)
    assert len(slow) > 1.2 * len(a)
