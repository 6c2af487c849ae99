"""deepedge.ops.charlm: the character language model beam search reads (fitted by
deepedge.apps.speech.character_lm)."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError, ModelFileError


def test_character_language_model_is_a_distribution_and_round_trips(tmp_path):
    from deepedge.apps.speech.character_lm import fit_char_lm
    from deepedge.ops.charlm import CharLanguageModel

    texts = ["the cat sat", "the hat", "a cat and a hat", "that cat"] * 3
    lm = fit_char_lm(" acdehnst", order=3, texts=texts)
    for context in ((), (1,), tuple(lm.encode("the ")), tuple(lm.encode("zzz".replace("z", "s")))):
        assert np.exp(lm.log_probs(context)).sum() == pytest.approx(1.0, abs=0.03)  # 8-bit log-probabilities
    assert lm.score("the cat") > lm.score("teh cat") and lm.score("a hat") > lm.score("a hta")
    loaded = CharLanguageModel.load(lm.save(tmp_path / "lm.npz"))
    assert np.array_equal(loaded.log_probs(lm.encode("th")), lm.log_probs(lm.encode("th")))
    assert loaded.num_contexts == lm.num_contexts and loaded.characters == lm.characters
    (tmp_path / "bad.npz").write_bytes((tmp_path / "lm.npz").read_bytes()[:200])
    with pytest.raises(ModelFileError, match="not a readable character language model"):
        CharLanguageModel.load(tmp_path / "bad.npz")
    with pytest.raises(InvalidInputError, match="outside the alphabet"):
        fit_char_lm(" abc", order=2, texts=["Capital"])
