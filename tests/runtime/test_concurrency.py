"""Threads: one loaded edge model shared by threads gives every thread the single-threaded
answer (image classifier, language model, translator with its attention), and models loaded
by several threads at once leave the process's stdout and stderr where they were."""

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from deepedge.runtime import load

THREADS = 8


def _shared_answers(function, items, rounds=3):
    """Each item answered by `THREADS` threads at once, `rounds` times over."""
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(function, [item for _ in range(rounds) for item in items]))


def test_threads_sharing_an_image_classifier_get_the_single_threaded_answers():
    classifier = load("saved_models/fashion_edgenet")
    images = np.random.default_rng(0).integers(0, 256, (64, *classifier.image_shape)).astype(np.float32)
    alone = [classifier.predict(image[None])[0] for image in images]
    shared = _shared_answers(lambda i: classifier.predict(images[i][None])[0], range(len(images)), rounds=8)
    wrong = sum(not np.array_equal(answer, alone[i % len(images)]) for i, answer in enumerate(shared))
    assert wrong == 0, f"{wrong} of {len(shared)} answers differ under {THREADS} threads"


def test_threads_sharing_a_language_model_generate_what_one_thread_does():
    model = load("saved_models/austen_nplm")
    prompts = ["it is a truth", "she was", "mr darcy", "the letter"]
    alone = [model.generate(p, max_tokens=10, seed=3) for p in prompts]
    shared = _shared_answers(lambda i: model.generate(prompts[i], max_tokens=10, seed=3), range(len(prompts)))
    assert shared == alone * 3
    assert model.steps_run > 0


@pytest.mark.slow
def test_threads_sharing_a_translator_keep_their_own_attention():
    translator = load("saved_models/es_en_attention")
    sentences = ["En el principio creó Dios los cielos y la tierra.", "Y dijo Dios: Sea la luz; y fué la luz.",
                 "Bienaventurados los pobres en espíritu.", "Jesús lloró."]

    def translate(i):
        text = translator.translate([sentences[i]])[0]
        return text, len(translator.last_attention)

    alone = [translate(i) for i in range(len(sentences))]
    assert _shared_answers(translate, range(len(sentences)), rounds=2) == alone * 2


def test_loading_from_threads_leaves_stdout_and_stderr_in_place(capfd):
    before = [os.fstat(fd).st_ino for fd in (1, 2)]
    barrier = threading.Barrier(6)

    def load_one(_):
        barrier.wait()
        return load("saved_models/fashion_lenet5").class_names

    with ThreadPoolExecutor(6) as pool:
        names = list(pool.map(load_one, range(6)))
    assert all(n == names[0] for n in names)
    assert [os.fstat(fd).st_ino for fd in (1, 2)] == before
    print("still here")
    sys.stderr.write("and here\n")
    out, err = capfd.readouterr()
    assert "still here" in out and "and here" in err
