"""BLEU and chrF of translations, overall and by source length (as in Bahdanau et al. Fig. 2)."""

import dataclasses

LENGTH_BUCKETS = ((1, 10), (11, 20), (21, 30), (31, None))  # source words, as in Bahdanau et al. Fig. 2


def bucket_name(low, high):
    return f"{low}-{high}" if high else f"{low}+"


def translation_report(hypotheses, data):
    """BLEU and chrF of `hypotheses` against `data.targets`, overall and by source length in words."""
    from deepedge.ops.bleu import corpus_bleu, corpus_chrf

    report = {"bleu": round(corpus_bleu(hypotheses, data.targets), 2),
              "chrf": round(corpus_chrf(hypotheses, data.targets), 2), "by_source_length": {}}
    lengths = [len(s.split()) for s in data.sources]
    for low, high in LENGTH_BUCKETS:
        chosen = [i for i, n in enumerate(lengths) if n >= low and (high is None or n <= high)]
        if chosen:
            report["by_source_length"][bucket_name(low, high)] = {
                "pairs": len(chosen), "bleu": round(corpus_bleu([hypotheses[i] for i in chosen],
                                                                [data.targets[i] for i in chosen]), 2)}
    return report


__all__ = ["LENGTH_BUCKETS", "bucket_name", "translation_report"]


def fitting_pairs(model, data):
    """`(the pairs of data whose source fits the model, how many did not)`: a sentence longer
    than the model's maximum is refused by `translate`, never cut short."""
    limit = model.max_source_length
    keep = [i for i, s in enumerate(data.sources) if len(model.source_tokenizer.encode(s)) < limit]
    fitted = dataclasses.replace(data, sources=tuple(data.sources[i] for i in keep),
                                 targets=tuple(data.targets[i] for i in keep),
                                 groups=tuple(data.groups[i] for i in keep))
    return fitted, len(data) - len(keep)
