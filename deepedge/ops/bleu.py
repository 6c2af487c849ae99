"""BLEU and chrF with sacrebleu (Post 2018), the scores translation papers report, on detokenised text."""

from deepedge.errors import DataNotFoundError, InvalidInputError


def _sacrebleu():
    try:
        import sacrebleu
    except ImportError as e:
        raise DataNotFoundError("Translation metrics need sacrebleu: pip install 'deepedge[train]' "
                                "(or pip install sacrebleu).") from e
    return sacrebleu


def _check(hypotheses, references):
    if len(hypotheses) != len(references) or not references:
        raise InvalidInputError(f"Expected one hypothesis per reference, at least one. Received: {len(hypotheses)} "
                                f"hypotheses, {len(references)} references.")


def corpus_bleu(hypotheses, references):
    """Corpus BLEU (0-100) of `hypotheses` against one reference each (sacrebleu's defaults: 13a tokens)."""
    _check(hypotheses, references)
    return float(_sacrebleu().corpus_bleu(list(hypotheses), [list(references)]).score)


def corpus_chrf(hypotheses, references):
    """Corpus chrF (0-100), character n-gram F-score, kinder than BLEU to near misses in morphology."""
    _check(hypotheses, references)
    return float(_sacrebleu().corpus_chrf(list(hypotheses), [list(references)]).score)
