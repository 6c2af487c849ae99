"""Property tests of the on-device runtime (issue 23): every public method of the shipped models
loaded with `deepedge.edge.load` (predict, classify, detect, calibrate, transcribe, decode,
generate, perplexity, translate, caption, label, overlay, look, q_values, play_episode), given
arguments of any shape, dtype, range and type, returns a valid result (the right type and
shape, finite values in range) or raises a `DeepEdgeError`; never another exception, a NaN or
a crash.

The targets and strategies live in `fuzz_runtime_targets.py`; `benchmarks/fuzz.py` runs the
same ones on many more examples.
"""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from fuzz_core import check_target, targets_of


@pytest.mark.parametrize("target", targets_of("runtime"), ids=lambda target: target.name)
def test_a_valid_result_or_a_deepedge_error(target, resources, properties_settings):
    check_target(target, resources, properties_settings)


def test_a_batch_is_answered_as_its_images_one_at_a_time(resources, properties_settings):
    classifier = resources.model("fashion_edgenet")
    images = hnp.arrays(np.uint8, st.tuples(st.integers(1, 3), st.just(28), st.just(28)),
                        elements=st.integers(0, 255))

    @properties_settings(15)
    @given(images)
    def same_answers(batch):
        one_by_one = np.concatenate([classifier.predict(image) for image in batch])
        np.testing.assert_array_equal(classifier.predict(batch), one_by_one)
        np.testing.assert_array_equal(classifier.predict(batch.astype(np.float32)), one_by_one)

    same_answers()


def test_generation_with_a_seed_is_reproducible(resources, properties_settings):
    model = resources.model("austen_nplm")

    @properties_settings(10)
    @given(st.text("abcdefghij klmnop.,", max_size=20), st.integers(0, 2**32), st.integers(1, 5))
    def reproducible(prompt, seed, max_tokens):
        first = model.generate(prompt, max_tokens=max_tokens, seed=seed)
        assert model.generate(prompt, max_tokens=max_tokens, seed=seed) == first

    reproducible()
