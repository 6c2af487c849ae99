"""Caption metrics: BLEU-1..4 (sacrebleu), CIDEr-D (pycocoevalcap), and whether captions are true.

Object recall and precision read the object words of each caption (`OBJECT_WORDS`: every
noun and plural of every kind) against the kinds the scene shows. Attention grounding asks,
for each object word the decoder writes, whether the attention's peak at that step falls
inside the box of an object of that kind.
"""

import numpy as np


def bleu(hypotheses, references):
    """`{1: BLEU-1, ..., 4: BLEU-4}` of the corpus, every reference of each image counted."""
    from deepedge.ops.bleu import multi_reference_bleu

    return multi_reference_bleu(hypotheses, references)


def cider(hypotheses, references):
    """CIDEr-D of the corpus (pycocoevalcap's implementation, x100 like BLEU)."""
    from pycocoevalcap.cider.cider import Cider

    gts = {i: list(refs) for i, refs in enumerate(references)}
    res = {i: [h if h.strip() else "<empty>"] for i, h in enumerate(hypotheses)}
    score, _ = Cider().compute_score(gts, res)
    return float(score) * 100


def named_kinds(caption):
    """The kinds of object a caption's words name (`OBJECT_WORDS`)."""
    from deepedge.data.captions import OBJECT_WORDS

    return {OBJECT_WORDS[w] for w in caption.split() if w in OBJECT_WORDS}


def object_recall_precision(hypotheses, objects):
    """`(recall, precision)` in percent: of the kinds each scene shows, how many its caption
    names; of the kinds each caption names, how many the scene shows."""
    shown = named = hits = 0
    for caption, scene in zip(hypotheses, objects):
        kinds = {o["kind"] for o in scene}
        said = named_kinds(caption)
        shown, named, hits = shown + len(kinds), named + len(said), hits + len(kinds & said)
    return 100.0 * hits / max(shown, 1), 100.0 * hits / max(named, 1)


def grounding(captions_and_attention, objects, grid, image_size):
    """Percent of the object words written whose step's attention peak lies inside an object of
    that kind. `captions_and_attention` holds `(caption words, attention (steps, places))` per
    image, one attention row per written word (the end token's row may follow)."""
    from deepedge.data.captions import OBJECT_WORDS

    rows, cols = grid
    cell_h, cell_w = image_size / rows, image_size / cols
    words_seen = inside = 0
    for (words, attention), scene in zip(captions_and_attention, objects):
        for t, word in enumerate(words):
            kind = OBJECT_WORDS.get(word)
            if kind is None or t >= len(attention):
                continue
            words_seen += 1
            peak = int(np.argmax(attention[t]))
            y, x = (peak // cols + 0.5) * cell_h, (peak % cols + 0.5) * cell_w  # the cell's centre
            if any(o["kind"] == kind and o["box"][0] <= y < o["box"][2] and o["box"][1] <= x < o["box"][3]
                   for o in scene):
                inside += 1
    return 100.0 * inside / max(words_seen, 1)


def caption_report(hypotheses, data):
    """BLEU-1..4, CIDEr-D, object recall and precision of the captions of `data`."""
    scores = bleu(hypotheses, data.captions)
    recall, precision = object_recall_precision(hypotheses, data.objects)
    return {"images": len(data), **{f"bleu{n}": round(v, 2) for n, v in scores.items()},
            "cider": round(cider(hypotheses, data.captions), 2), "object_recall": round(recall, 2),
            "object_precision": round(precision, 2)}


__all__ = ["bleu", "caption_report", "cider", "grounding", "named_kinds", "object_recall_precision"]
