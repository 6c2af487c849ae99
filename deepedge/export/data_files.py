"""Calibration and evaluation examples from files, for `deepedge export MODEL.keras` (numpy, Pillow).

Three kinds, for the model's raw inputs (`[{"name", "shape", "dtype"}]`, as `KerasModelTask`
describes them):

- a `.npz` file with one array per model input, named after it (`x` also names the only
  input of a one-input model), and the targets as `y`;
- a folder of images (PNG, JPEG, BMP, TIFF, GIF, WebP), resized to the model's input and
  read with its channel count, as uint8 0..255;
- a folder of WAV files, mixed down, resampled to 16 kHz, as float32 in [-1, 1], cut or
  padded (centred) to the model's input length.

In a folder, class subfolders give the labels (`y` is each file's subfolder, in sorted order);
files directly in the folder have none (enough for calibration).
"""

from pathlib import Path

import numpy as np

from deepedge.errors import InvalidInputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp")
AUDIO_SUFFIXES = (".wav",)


def _read_npz(path, specs):
    names = [spec["name"] for spec in specs]
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError) as e:
        raise InvalidInputError(f"{path} is not a readable .npz file ({e}). Write one with "
                                f"`np.savez(path, {', '.join(f'{n}=...' for n in names)}, y=...)`.") from e
    if len(names) == 1 and names[0] not in arrays and "x" in arrays:
        arrays[names[0]] = arrays.pop("x")
    missing = [name for name in names if name not in arrays]
    if missing:
        raise InvalidInputError(f"{path} lacks the array(s) {missing}: it needs one array per model input, named "
                                f"{names}, and the targets as `y`. Received the arrays {sorted(arrays)}.")
    return {name: arrays[name] for name in names}, arrays.get("y"), None


def _files_by_class(folder):
    """`(files, labels or None, class names or None)` of a folder: class subfolders, or files alone."""
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if classes:
        files, labels = [], []
        for index, name in enumerate(classes):
            found = sorted(p for p in (folder / name).iterdir() if p.is_file() and not p.name.startswith("."))
            files += found
            labels += [index] * len(found)
        return files, np.asarray(labels, np.int64), classes
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")), None, None


def _image(path, shape, layout):
    from PIL import Image

    from deepedge.ops.preprocess import read_image

    height, width, channels = (shape[1], shape[2], shape[0]) if layout == "channels_first" else shape
    pixels = read_image(path, channels)
    if pixels.shape[:2] != (height, width):
        picture = Image.fromarray(pixels[..., 0] if channels == 1 else pixels)
        pixels = np.asarray(picture.resize((width, height), Image.BILINEAR)).reshape(height, width, channels)
    return np.moveaxis(pixels, -1, 0) if layout == "channels_first" else pixels


def _clip(path, shape):
    from deepedge.ops.audio import fit_clip, load_audio

    return fit_clip(load_audio(path), shape[0]).reshape(shape)


def _read_folder(folder, specs, layout):
    if len(specs) != 1:
        raise InvalidInputError(f"A folder of files feeds a model with one input; this one takes {len(specs)} "
                                f"{[s['name'] for s in specs]}. Pass a .npz file with one array per input.")
    spec = specs[0]
    files, labels, classes = _files_by_class(folder)
    kinds = {p.suffix.lower() for p in files}
    if not files or not (kinds <= set(IMAGE_SUFFIXES) or kinds <= set(AUDIO_SUFFIXES)):
        raise InvalidInputError(f"{folder} must hold images ({', '.join(IMAGE_SUFFIXES)}) or WAV files, directly or in "
                                f"class subfolders. Received: {len(files)} file(s) of kinds {sorted(kinds) or 'none'}.")
    shape = tuple(spec["shape"])
    if None in shape:
        raise InvalidInputError(f"Input {spec['name']!r} has free dimensions {shape}; files are fitted to a fixed "
                                "input size. Declare it in `keras.Input(shape=...)`, or pass a .npz file.")
    audio = kinds <= set(AUDIO_SUFFIXES)
    image_rank = 3
    if not audio and len(shape) != image_rank:
        raise InvalidInputError(f"Images feed an input of shape (height, width, channels); {spec['name']!r} takes "
                                f"{shape}. Pass a .npz file.")
    examples = [_clip(path, shape) if audio else _image(path, shape, layout) for path in files]
    return {spec["name"]: np.stack(examples)}, labels, classes


def read_examples(path, specs, layout="channels_last"):
    """`(inputs by name, y or None, class names or None)` from a `.npz` file or a folder.

    Args:
        path: the file or folder.
        specs: the model's raw inputs, `[{"name", "shape"}]`.
        layout: `"channels_first"` when the model's raw images come channels first.
    """
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, specs, layout)
    if path.suffix.lower() == ".npz":
        return _read_npz(path, specs)
    raise InvalidInputError(f"Expected a .npz file or a folder of images or WAV files. Received: {path}.")


__all__ = ["AUDIO_SUFFIXES", "IMAGE_SUFFIXES", "read_examples"]
