"""Keyword decisions in numpy only: rejection threshold, false accepts, detection in a stream.

Shared by the Keras `KeywordSpotter`, its training recipe and the on-device runtime.
"""

import numpy as np

SILENCE, UNKNOWN = "_silence_", "_unknown_"


def keyword_report(scores, labels, class_names, threshold=0.0):
    """Accuracy, keyword accuracy and false accepts of class probabilities `scores` (percent).

    A keyword whose probability is below `threshold` is rejected (counted as `_unknown_`).
    False accepts: the share of `_unknown_` words, and of `_silence_` clips, taken for a keyword.
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    names = list(class_names)
    keyword_ids = [i for i, n in enumerate(names) if n not in (SILENCE, UNKNOWN)]
    predicted = decide(scores, names, threshold)
    is_keyword = np.isin(labels, keyword_ids)
    predicted_keyword = np.isin(predicted, keyword_ids)
    report = {"accuracy": 100.0 * float(np.mean(np.argmax(scores, -1) == labels)),
              "accuracy_with_threshold": 100.0 * float(np.mean(predicted == labels)),
              "keyword_accuracy": 100.0 * float(np.mean(predicted[is_keyword] == labels[is_keyword]))
              if is_keyword.any() else None,
              "threshold": float(threshold), "examples": int(len(labels))}
    for name in (UNKNOWN, SILENCE):
        if name in names:
            mask = labels == names.index(name)
            report[f"false_accepts_{name.strip('_')}"] = (100.0 * float(np.mean(predicted_keyword[mask]))
                                                          if mask.any() else None)
    return report


def decide(scores, class_names, threshold=0.0):
    """Class indices with rejection: a keyword below `threshold` becomes `_unknown_`."""
    scores = np.asarray(scores)
    names = list(class_names)
    predicted = np.argmax(scores, -1)
    if threshold > 0 and UNKNOWN in names:
        keyword = ~np.isin(predicted, [names.index(SILENCE), names.index(UNKNOWN)] if SILENCE in names
                           else [names.index(UNKNOWN)])
        weak = scores[np.arange(len(scores)), predicted] < threshold
        predicted = np.where(keyword & weak, names.index(UNKNOWN), predicted)
    return predicted


def calibrate_threshold(scores, labels, class_names, target_false_accepts=5.0):
    """The lowest probability threshold whose false accepts on `_unknown_` words are at most
    `target_false_accepts` percent (0 when the plain argmax already is)."""
    for threshold in np.round(np.arange(0.0, 0.96, 0.05), 2):
        report = keyword_report(scores, labels, class_names, threshold)
        if (report.get("false_accepts_unknown") or 0.0) <= target_false_accepts:
            return float(threshold)
    return 0.95


def detect_stream(window_scores, class_names, threshold, hop_seconds, smoothing=3, refractory_seconds=0.75):
    """Keyword detections in a stream of per-window class probabilities.

    Args:
        window_scores: iterable of probability vectors, one per 1-second window, windows
            `hop_seconds` apart (the runtime yields them as audio arrives).
        class_names: list of str.
        threshold: float. A keyword is reported when its smoothed probability reaches this.
        hop_seconds: float. Time between windows.
        smoothing: int. Windows averaged (a moving average of the posteriors, as in Hello Edge).
        refractory_seconds: float. A keyword is not reported again within this time.

    Yields:
        `(time_seconds, keyword, probability)` at the end of the window that fired.
    """
    names = list(class_names)
    keywords = [i for i, n in enumerate(names) if n not in (SILENCE, UNKNOWN)]
    fire_at = max(threshold, 0.5)
    history, last_fired, armed = [], {}, set(keywords)
    for k, scores in enumerate(window_scores):
        history = (history + [np.asarray(scores, np.float32)])[-smoothing:]
        smoothed = np.mean(history, axis=0)
        # A keyword fires once per utterance: it re-arms when its probability has fallen away.
        armed |= {i for i in keywords if smoothed[i] < fire_at / 2}
        best = int(np.argmax(smoothed))
        t = 1.0 + k * hop_seconds
        if (best in armed and smoothed[best] >= fire_at
                and t - last_fired.get(best, -1e9) >= refractory_seconds):
            last_fired[best] = t
            armed.discard(best)
            yield (round(t, 3), names[best], float(smoothed[best]))
