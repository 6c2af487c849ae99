"""Fills every panel of the demo page with real held-out inputs, through its own controls.

The page test and `benchmarks/browser.py` use it to check the panels end to end (a file
dropped into an upload field is decoded and run by the page's own code) and to take the
README's screenshots. It writes the inputs as the files a visitor would drop (PNG, WAV) into
a folder, then drives a Playwright page. Needs the training extras (the data sets and Pillow).
"""

import wave
from pathlib import Path

import numpy as np


def write_wav(path, audio, sample_rate=16000):
    pcm = np.clip(np.asarray(audio, np.float32), -1, 1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes((pcm * 32767).astype("<i2").tobytes())
    return path


def write_png(path, pixels):
    from PIL import Image

    Image.fromarray(np.asarray(pixels, np.uint8)).save(path)
    return path


def showcase_files(folder):
    """`{name: path}` of real held-out inputs, as files: a Fashion-MNIST sneaker, a brick photo,
    a spoken keyword ("yes"), a spoken sentence and a caption-set picture."""
    from skimage import data

    from deepedge.data import load_fashion_mnist
    from deepedge.data.captions import load_captions
    from deepedge.data.speech import load_keywords, load_sentences
    from deepedge.ops.audio import as_pcm

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fashion = load_fashion_mnist("test")
    sneaker = fashion.images[int(np.flatnonzero(fashion.labels == 7)[0])]
    keywords = load_keywords("test")
    return {
        "clothing": write_png(folder / "sneaker.png", np.kron(sneaker.reshape(28, 28), np.ones((7, 7)))),
        "scene": write_png(folder / "brick_and_grass.png", np.hstack([data.brick()[:200, :160],
                                                                      data.grass()[:200, :160]])),
        "keyword": write_wav(folder / "yes.wav", as_pcm(keywords.audio[int(np.flatnonzero(keywords.labels == 0)[0])])),
        "sentence": write_wav(folder / "sentence.wav", load_sentences("test").waveform(7)),
        "picture": write_png(folder / "picture.png", load_captions("test", num_images=1).images[0]),
    }


def panel(page, title):
    return page.locator("section.panel", has=page.locator("h2", has_text=title))


def fill_panels(page, files, timeout=60_000):
    """Drives each panel with `files` (from `showcase_files`) and waits for its answer; returns
    `{panel: text it shows}`."""
    shown = {}
    steps = [
        ("Image recognition", lambda p: p.locator("input[type=file]").set_input_files(files["clothing"]), ".bars li"),
        ("Keyword spotting", lambda p: p.locator("input[type=file]").set_input_files(files["keyword"]), ".bars li"),
        ("Speech recognition", lambda p: (p.locator("select").nth(1).select_option("16"),
                                          p.locator("input[type=file]").set_input_files(files["sentence"])),
         ".timing:not(:empty)"),
        ("Language modelling", lambda p: (p.locator("select").nth(1).select_option("greedy"),
                                          p.get_by_role("button", name="Write").click()), ".timing:not(:empty)"),
        ("Scene labelling", lambda p: (p.locator("select").select_option("scenes_labeller"),
                                       p.locator("input[type=file]").set_input_files(files["scene"])), ".legend span"),
        ("Translation and captioning", lambda p: p.get_by_role("button", name="Translate").click(),
         ".timing:not(:empty)"),
        ("Visual-attention agents", lambda p: (p.locator("select").select_option("dqn_cartpole"),
                                               p.get_by_role("button", name="Play").click()),
         ".timing:not(:empty)"),
    ]
    for title, act, done in steps:
        section = panel(page, title)
        act(section)
        section.locator(done).first.wait_for(timeout=timeout)
        shown[title] = section.inner_text()
    return shown


__all__ = ["fill_panels", "showcase_files", "write_png", "write_wav"]
