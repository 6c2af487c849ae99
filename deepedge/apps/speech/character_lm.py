"""Builds the recogniser's character language model from the training chapters and tunes its
fusion weights on validation sentences (see `deepedge.ops.charlm`)."""

import itertools

from deepedge.ops.charlm import CharLanguageModel
from deepedge.ops.ctc import beam_decode, character_error_rate
from deepedge.errors import InvalidInputError
from deepedge.progress import progress_bar

# The order and pruning that measured best on validation sentences (README: the recogniser).
DEFAULT_ORDER = 7
LM_MIN_COUNT = 8
LM_WEIGHTS = (0.6, 1.0, 1.4)
LENGTH_BONUSES = (1.0, 2.0)


def fit_char_lm(characters, order=DEFAULT_ORDER, texts=None, split="train", min_count=1):
    """An interpolated Kneser-Ney character model over `texts` (default: every clause of the
    Austen chapters of `split`), each text followed by the sentence boundary, as a
    `CharLanguageModel` (contexts seen fewer than `min_count` times pruned)."""
    from deepedge.ops.ngram import KneserNey
    from deepedge.data.speech import austen_clauses

    lookup = {c: i + 1 for i, c in enumerate(characters)}
    stream = []
    for text in (austen_clauses(split) if texts is None else texts):
        unknown = set(text) - set(lookup)
        if unknown:
            raise InvalidInputError(f"Text {text[:40]!r} has characters {sorted(unknown)} outside the alphabet "
                                    f"{''.join(characters)!r}; normalise it first (deepedge.data.speech."
                                    f"normalise_transcript).")
        stream.extend(lookup[c] for c in text)
        stream.append(0)
    if not stream:
        raise InvalidInputError("No text to fit the character language model on.")
    model = KneserNey(order=order, start_token=0).fit(stream, vocabulary_size=len(characters) + 1)
    return CharLanguageModel.from_kneser_ney(model, characters, min_count=min_count)


def tune_fusion(language_model, logits, references, beam_width=16, lm_weights=LM_WEIGHTS,
                length_bonuses=LENGTH_BONUSES):
    """Sets `language_model.lm_weight` and `.length_bonus` to the pair of the grid with the lowest
    character error rate of beam search over `logits` (a list of `(steps, classes)` arrays of
    validation sentences); returns `{(weight, bonus): cer}`."""
    results = {}
    grid = list(itertools.product(lm_weights, length_bonuses))
    with progress_bar() as progress:
        bar = progress.add_task("Tuning the language model's weight", total=len(grid) * len(logits))
        for weight, bonus in grid:
            hypotheses = []
            for sentence_logits in logits:
                hypotheses.append(beam_decode(sentence_logits, language_model.characters, beam_width,
                                              language_model=language_model, lm_weight=weight, length_bonus=bonus))
                progress.advance(bar)
            results[(weight, bonus)] = character_error_rate(references, hypotheses)
    language_model.lm_weight, language_model.length_bonus = min(results, key=results.get)
    return results
