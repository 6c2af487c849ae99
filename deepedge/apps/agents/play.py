"""Pictures of agents at work, as animated GIFs: a glimpse agent's path over its canvas, and a
Q-network's game with the action it chose at each step."""

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


# One colour per MinAtar object plane (Breakout: paddle, ball, trail, brick; others have up to 10).
PLANE_COLOURS = ((80, 160, 255), (255, 220, 60), (255, 140, 40), (230, 70, 70), (120, 220, 120),
                 (200, 120, 255), (255, 255, 255), (60, 200, 200), (160, 160, 160), (255, 120, 200))


def _cartpole_picture(state, width=320, height=160):
    """CartPole's cart and pole drawn from its state (position, speed, angle, angular speed)."""
    from PIL import Image, ImageDraw

    position, _, angle, _ = (float(v) for v in np.ravel(state)[:4])
    picture = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(picture)
    ground = height - 30
    draw.line([(0, ground), (width, ground)], fill=(0, 0, 0), width=1)
    centre = width / 2 + position / 2.4 * (width / 2 - 30)  # the track's ends are +-2.4
    draw.rectangle([centre - 24, ground - 14, centre + 24, ground], fill=(40, 40, 40))
    top = (centre + 90 * np.sin(angle), ground - 14 - 90 * np.cos(angle))
    draw.line([(centre, ground - 14), top], fill=(200, 130, 60), width=6)
    draw.ellipse([centre - 3, ground - 17, centre + 3, ground - 11], fill=(120, 120, 220))
    return picture


def observation_picture(observation, zoom=None):
    """An RGB picture of one observation: CartPole's state drawn, MinAtar's planes in colour (one
    per object), Atari's grey frame enlarged."""
    from PIL import Image

    array = np.asarray(observation)
    if array.ndim == 1:
        return _cartpole_picture(array)
    if array.ndim == 3 and array.shape[-1] > 1:  # MinAtar planes, 0/1
        rgb = np.zeros((*array.shape[:2], 3), np.uint8)
        for plane in range(array.shape[-1]):
            rgb[array[..., plane] > 0] = PLANE_COLOURS[plane % len(PLANE_COLOURS)]
        zoom = zoom or 24
    else:
        rgb = np.repeat(np.clip(array.reshape(array.shape[:2]), 0, 255).astype(np.uint8)[..., None], 3, -1)
        zoom = zoom or 3
    return Image.fromarray(rgb).resize((rgb.shape[1] * zoom, rgb.shape[0] * zoom), Image.NEAREST)


def game_frames(observations, actions, rewards, action_names, max_frames=300):
    """One frame per step (at most `max_frames`, evenly spread): the observation the action was
    chosen on, with the step, the action and the return so far written under it."""
    from PIL import Image, ImageDraw

    steps = len(actions)
    chosen = np.unique(np.linspace(0, steps - 1, min(steps, max_frames)).round().astype(int)) if steps else []
    returns = np.cumsum(rewards) if steps else []
    frames = []
    for t in chosen:
        picture = observation_picture(observations[t])
        frame = Image.new("RGB", (max(picture.width, 240), picture.height + 20), (0, 0, 0))
        frame.paste(picture, (0, 0))
        ImageDraw.Draw(frame).text((4, picture.height + 4), f"step {t + 1}/{steps}  {action_names[actions[t]]}  "
                                   f"return {returns[t]:g}", fill=(255, 255, 255))
        frames.append(frame)
    return frames


def play_game(runtime, path, seed, episode=0, epsilon=0.0):
    """Plays one fixed-seed episode with an on-device Q-network; writes its GIF to `path`.

    Returns:
        The episode's dict (`return`, `steps`, ...; see `EdgeQNetwork.play_episode`).
    """
    played = runtime.play_episode(seed=seed, episode=episode, epsilon=epsilon, record=True)
    frames = game_frames(played["observations"], played["actions"], played["rewards"], runtime.action_names)
    if frames:
        save_gif(frames, path, milliseconds=60)
    return played


__all__ = ["game_frames", "glimpse_frames", "observation_picture", "play_game", "play_glimpse", "save_gif"]
