"""deepedge.ops.keywords: keyword decisions, reports, thresholds and streaming detection (numpy only)."""

import numpy as np


def test_keyword_report_counts_false_accepts_and_applies_the_threshold():
    from deepedge.ops.keywords import calibrate_threshold, decide, keyword_report

    names = ["yes", "no", "_silence_", "_unknown_"]
    scores = np.array([[0.9, 0.05, 0.0, 0.05],   # yes, right
                       [0.6, 0.3, 0.0, 0.1],     # no, taken for yes (weak)
                       [0.1, 0.1, 0.8, 0.0],     # silence, right
                       [0.55, 0.0, 0.0, 0.45],   # unknown, falsely accepted as yes (weak)
                       [0.0, 0.2, 0.0, 0.8]])    # unknown, right
    labels = np.array([0, 1, 2, 3, 3])
    plain = keyword_report(scores, labels, names)
    assert plain["accuracy"] == 60.0 and plain["false_accepts_unknown"] == 50.0
    assert plain["keyword_accuracy"] == 50.0 and plain["false_accepts_silence"] == 0.0
    strict = keyword_report(scores, labels, names, threshold=0.7)
    assert strict["false_accepts_unknown"] == 0.0 and strict["accuracy_with_threshold"] == 80.0
    assert list(decide(scores, names, 0.7)) == [0, 3, 2, 3, 3]
    assert calibrate_threshold(scores, labels, names, target_false_accepts=0.0) == 0.6


def test_keyword_threshold_calibration_reaches_the_false_accept_target():
    from deepedge.ops.keywords import calibrate_threshold, keyword_report

    names = ["yes", "no", "_silence_", "_unknown_"]
    # Four other words whose best keyword scores 0.3, 0.55, 0.8 and 0.97; two keywords at 0.6 and 0.9.
    scores = np.array([[0.3, 0.1, 0.0, 0.6], [0.55, 0.0, 0.0, 0.45], [0.0, 0.8, 0.0, 0.2], [0.97, 0.0, 0.0, 0.03],
                       [0.6, 0.1, 0.0, 0.3], [0.05, 0.9, 0.0, 0.05]])
    labels = np.array([3, 3, 3, 3, 0, 1])
    assert calibrate_threshold(scores, labels, names, 25.0, step=0.01) == 0.81  # lets 0.97 through, not 0.8
    assert calibrate_threshold(scores, labels, names, 0.0, step=0.01) == 0.98
    assert calibrate_threshold(scores, labels, names, 25.0) == 0.85  # training's coarser grid
    report = keyword_report(scores, labels, names, 0.81)
    assert report["false_accepts_unknown"] == 25.0 and report["keyword_accuracy"] == 50.0


def test_detect_stream_smooths_and_does_not_repeat():
    from deepedge.ops.keywords import detect_stream

    names = ["yes", "no", "_silence_", "_unknown_"]
    quiet, yes = [0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]
    windows = [quiet] * 4 + [yes] * 4 + [quiet] * 8 + [yes] * 3
    found = list(detect_stream(windows, names, threshold=0.6, hop_seconds=0.25, smoothing=3))
    assert [w for _, w, _ in found] == ["yes", "yes"]
    assert found[0][0] == 1.0 + 5 * 0.25  # two of three smoothed windows say yes
