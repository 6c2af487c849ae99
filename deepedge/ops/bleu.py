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


def multi_reference_bleu(hypotheses, references, orders=(1, 2, 3, 4)):
    """`{n: BLEU-n}` (0-100) of the corpus against several references per hypothesis (a caption's
    five), each `references[i]` a sequence of strings; BLEU-n uses n-grams up to n."""
    from sacrebleu.metrics import BLEU

    _check(hypotheses, references)
    _sacrebleu()
    width = max(len(r) for r in references)
    # sacrebleu takes reference streams: the k-th reference of every hypothesis (the first again when short)
    streams = [[refs[k] if k < len(refs) else refs[0] for refs in references] for k in range(width)]
    return {n: float(BLEU(max_ngram_order=n).corpus_score(list(hypotheses), streams).score) for n in orders}
