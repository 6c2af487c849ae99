"""Pictures of agents at work: a glimpse agent's path over its canvas, as an animated GIF."""

from pathlib import Path

import numpy as np

SCALE_COLOURS = ((255, 64, 64), (255, 170, 0), (80, 160, 255), (120, 220, 120))


def glimpse_frames(image, locations, glimpse_size, scales, label=None, zoom=4):
    """One RGB frame per glimpse: the canvas (grey, enlarged `zoom` times), the retina's squares
    at this glimpse (one colour per scale) and the path so far; the last frame names `label`."""
    from PIL import Image, ImageDraw

    from deepedge.ops.glimpse import glimpse_centres

    grey = np.asarray(image, np.float32).reshape(np.shape(image)[0], np.shape(image)[1])
    height, width = grey.shape
    base = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).convert("RGB").resize(
        (width * zoom, height * zoom), Image.NEAREST)
    centres = glimpse_centres(np.asarray(locations), height, width)
    points = [((c + 0.5) * zoom, (r + 0.5) * zoom) for r, c in centres]
    frames = []
    for t, (row, col) in enumerate(centres):
        frame = base.copy()
        draw = ImageDraw.Draw(frame)
        if t:
            draw.line(points[:t + 1], fill=(255, 255, 255), width=2)
        for i in range(scales):
            half = glimpse_size * 2 ** i // 2
            box = [(col - half) * zoom, (row - half) * zoom, (col + half) * zoom - 1, (row + half) * zoom - 1]
            draw.rectangle(box, outline=SCALE_COLOURS[i % len(SCALE_COLOURS)], width=2)
        draw.text((4, 4), f"glimpse {t + 1}/{len(centres)}", fill=(255, 255, 255))
        if label is not None and t == len(centres) - 1:
            draw.text((4, height * zoom - 16), f"answer: {label}", fill=(255, 255, 0))
        frames.append(frame)
    return frames


def save_gif(frames, path, milliseconds=600):
    """Writes `frames` (PIL images) as a looping GIF, atomically; returns the path."""
    from deepedge.fileio import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=milliseconds, loop=0)
    return path


def play_glimpse(runtime, image, path):
    """Runs an on-device glimpse agent on one image; writes the GIF of its glimpses to `path`.

    Returns:
        `(label, probability, locations (glimpses, 2))`.
    """
    probabilities, locations = runtime.look(image)
    best = int(np.argmax(probabilities))
    label = runtime.class_names[best]
    frames = glimpse_frames(image, locations, runtime.glimpse_size, runtime.scales,
                            label=f"{label} ({probabilities[best]:.2f})")
    save_gif(frames, path)
    return label, float(probabilities[best]), locations


__all__ = ["glimpse_frames", "play_glimpse", "save_gif"]
