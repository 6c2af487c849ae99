"""The pictures the demos and `deepedge predict` draw (matplotlib, file-only back end; no TensorFlow)."""

from pathlib import Path

import numpy as np


def pyplot():
    """matplotlib's pyplot on the file-only Agg back end (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw_prediction_grid(runtime, dataset, path, scores, rows=4, cols=8):
    """A grid of test images with the on-device prediction; wrong ones in red."""
    plt = pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.9))
    for i, ax in enumerate(axes.flat):
        predicted = int(np.argmax(scores[i]))
        ax.imshow(dataset.images[i, ..., 0], cmap="gray_r")
        ok = predicted == dataset.labels[i]
        ax.set_title(f"{runtime.class_names[predicted]}\n{scores[i, predicted]:.2f}", fontsize=8,
                     color="darkgreen" if ok else "red")
        ax.axis("off")
    fig.suptitle(f"{path.stem.replace('_predictions', '')}: int8 LiteRT predictions (red: wrong)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def draw_label_maps(runtime, dataset, path, count=4):
    """Rows of (image, true labels, on-device labels, overlay) with a colour legend."""
    from deepedge.ops.dense import colorize, overlay

    plt = pyplot()
    count = min(count, len(dataset))
    height, width = dataset.images.shape[1:3]
    fig, axes = plt.subplots(count, 4, figsize=(4 * 2.4 * max(1.0, width / height / 2), count * 2.5),
                             squeeze=False)
    for i in range(count):
        image = dataset.images[i]
        predicted = runtime.label(image)
        panels = [(image[..., 0], "image"), (colorize(dataset.masks[i], runtime.palette), "truth"),
                  (colorize(predicted, runtime.palette), "on device (int8)"),
                  (overlay(image, predicted, runtime.palette), "overlay")]
        for ax, (picture, title) in zip(axes[i], panels):
            ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    handles = [plt.Rectangle((0, 0), 1, 1, color=np.asarray(c) / 255.0) for c in runtime.palette]
    fig.legend(handles, runtime.class_names, loc="lower center", ncol=min(9, len(handles)), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_keyword_stream(audio, window_scores, class_names, said, detections, path, hop_seconds=0.25, title=""):
    """The log-mel input over time, the keyword probabilities of each window, and what was said."""
    from deepedge.ops.audio import SAMPLE_RATE, log_mel_spectrogram

    plt = pyplot()
    features = log_mel_spectrogram(audio)
    duration = len(audio) / SAMPLE_RATE
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6), sharex=True)
    top.imshow(features.T, origin="lower", aspect="auto", cmap="magma", extent=(0, duration, 0, features.shape[1]))
    top.set_ylabel("mel band")
    top.set_title(title or "log-mel input")
    for start, stop, text in said:
        top.text((start + stop) / 2, features.shape[1] - 3, text, color="white", ha="center", fontsize=8)
    if len(window_scores):
        times = 1.0 + np.arange(len(window_scores)) * hop_seconds
        keywords = [i for i, n in enumerate(class_names) if not n.startswith("_")]
        shown = [i for i in keywords if window_scores[:, i].max() > 0.3]
        for i in shown:
            bottom.plot(times, window_scores[:, i], label=class_names[i])
        for i, name in enumerate(class_names):
            if name.startswith("_"):
                bottom.plot(times, window_scores[:, i], ":", color="grey" if name == "_silence_" else "black",
                            label=name.strip("_"), linewidth=1)
        bottom.legend(fontsize=7, ncol=6, loc="upper right")
    for t, word, _ in detections:
        bottom.axvline(t, color="red", linewidth=0.8)
        bottom.text(t, 1.02, word, color="red", ha="center", fontsize=8)
    bottom.set_ylim(0, 1.1)
    bottom.set_xlabel("seconds (a window's probabilities are plotted at its end)")
    bottom.set_ylabel("probability")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def draw_ctc_outputs(audio, logits, characters, path, title="", said=None):
    """The log-mel input and the CTC outputs over time: each step's most likely character and
    the probability of blank vs. any character."""
    from deepedge.ops.audio import SAMPLE_RATE, log_mel_spectrogram

    plt = pyplot()
    features = log_mel_spectrogram(audio)
    duration = len(audio) / SAMPLE_RATE
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    step = duration / max(1, len(logits))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6), sharex=True)
    top.imshow(features.T, origin="lower", aspect="auto", cmap="magma", extent=(0, duration, 0, features.shape[1]))
    top.set_ylabel("mel band")
    top.set_title(title + (f" -- said: {said}" if said else ""), fontsize=9)
    times = (np.arange(len(logits)) + 0.5) * step
    bottom.plot(times, probs[:, 0], color="lightgrey", label="blank")
    bottom.plot(times, 1 - probs[:, 0], color="tab:blue", label="a character")
    best = probs.argmax(-1)
    for t, c, p in zip(times, best, probs.max(-1)):
        if c != 0:
            bottom.text(t, min(1.0, p) + 0.02, characters[c - 1] if characters[c - 1] != " " else "_",
                        ha="center", fontsize=7)
    bottom.set_ylim(0, 1.15)
    bottom.set_xlabel("seconds")
    bottom.set_ylabel("CTC probability")
    bottom.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
