"""Keyword decisions in numpy only: rejection threshold, false accepts, detection in a stream.

Shared by the Keras `KeywordSpotter`, its training recipe and the on-device runtime.
"""

import numpy as np

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SILENCE, UNKNOWN = "_silence_", "_unknown_"
KEYWORD_CLASSES = (*KEYWORDS, SILENCE, UNKNOWN)


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


def calibrate_threshold(scores, labels, class_names, target_false_accepts=5.0, step=0.05):
    """The lowest probability threshold (a multiple of `step`, at most 0.99) whose false accepts
    on `_unknown_` words are at most `target_false_accepts` percent (0 when the plain argmax
    already is). Training calibrates on validation voices in steps of 0.05; a deployment's own
    recordings (`load_keyword_folder`) in steps of 0.01."""
    for threshold in np.round(np.arange(0.0, 1.0, step), 2):
        report = keyword_report(scores, labels, class_names, threshold)
        if (report.get("false_accepts_unknown") or 0.0) <= target_false_accepts:
            return float(threshold)
    return 0.99 if step < 0.05 else 0.95


def load_keyword_folder(folder, class_names, clip_samples=16000, sample_rate=16000):
    """Labelled 1-second clips from a folder laid out like Speech Commands: `folder/<word>/*.wav`.

    A folder named after a keyword holds that keyword; `_silence_` (or Speech Commands'
    `_background_noise_`) holds background sound; any other folder name is a word that is not
    a keyword (`_unknown_`). Each file is mixed down, resampled, trimmed of leading and trailing
    silence (not a `_silence_` file) and centred in one second (`fit_clip`, which keeps the
    middle second of a longer file). Returns `(clips float32 (N, clip_samples), labels (N,), paths)`.
    """
    from pathlib import Path

    from deepedge.ops.audio import fit_clip, load_audio, trim_silence
    from deepedge.errors import InvalidInputError

    names = list(class_names)
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidInputError(f"{folder} is not a folder. Expected folders of WAV files named after the words "
                                "they hold (yes/, no/, _unknown_/ or any other word, _silence_/).")
    clips, labels, paths = [], [], []
    for word_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        name = SILENCE if word_dir.name in (SILENCE, "_background_noise_") else word_dir.name
        label = names.index(name) if name in names else names.index(UNKNOWN)
        for path in sorted(word_dir.glob("*.wav")):
            audio = load_audio(path, sample_rate)
            trimmed = trim_silence(audio) if name != SILENCE else audio
            audio = trimmed if len(trimmed) else audio
            clips.append(fit_clip(audio, clip_samples))
            labels.append(label)
            paths.append(path)
    if not clips:
        raise InvalidInputError(f"No WAV files in the word folders of {folder}. Expected {folder}/<word>/*.wav.")
    return np.stack(clips).astype(np.float32), np.asarray(labels, np.int64), paths


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
