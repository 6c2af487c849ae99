"""Where the captioners name objects and where they do not: object recall by the objects' source.

    python benchmarks/captioning_recall.py [--models scenes_captioner scenes_show_and_tell]
                                           [--images 400] [--out benchmarks/results]

The captioning targets (issue 22) ask the attention model to name objects of held-out
combinations better than Show and Tell, and its attention to rest on the objects it names.
This splits object recall by where each object comes from (Fashion-MNIST items, MNIST
digits, emoji glyphs) on every held-out split, and measures attention grounding, so that two
causes of a miss show apart: a glyph the encoder never saw (the test splits draw each emoji
kind's unseen last glyph, which costs both presets alike) and a combination the decoder
never saw (where attention should name what it looks at, instead of the language's habit).
Greedy captions in Keras float. Writes `captioning_recall.json` and `captioning_recall.md`.
"""

import argparse
import collections
import json
from pathlib import Path

from deepedge.fileio import atomic_write_json, atomic_write_text
from deepedge.presets import saved_models_dir

SPLITS = ("validation", "test", "test_combinations")


def recall_by_source(captions, objects):
    """`{source: percent of that source's shown kinds the caption names}`."""
    from deepedge.apps.captioning.metrics import named_kinds
    from deepedge.data.captions import KINDS

    counts = collections.defaultdict(lambda: [0, 0])
    for caption, scene in zip(captions, objects):
        said = named_kinds(caption)
        for kind in {o["kind"] for o in scene}:
            counts[KINDS[kind].source][0] += 1
            counts[KINDS[kind].source][1] += kind in said
    return {source: round(100.0 * hit / shown, 1) for source, (shown, hit) in sorted(counts.items())}


def main():
    from deepedge.apps.captioning.captioner import Captioner
    from deepedge.apps.captioning.family import attention_grounding
    from deepedge.apps.captioning.metrics import caption_report
    from deepedge.data.captions import load_captions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=["scenes_captioner", "scenes_show_and_tell"],
                        help="Shipped model names or .keras paths.")
    parser.add_argument("--images", type=int, default=400, help="Images a split (grounding: half of them).")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    rows = []
    for name in args.models:
        path = Path(name) if name.endswith(".keras") else saved_models_dir() / name / "model.keras"
        model = Captioner.load(path)
        for split in SPLITS:
            data = load_captions(split).take(args.images)
            captions = model.caption(data.images)
            report = caption_report(captions, data)
            row = {"model": name, "split": split, "bleu4": report["bleu4"], "object_recall": report["object_recall"],
                   "by_source": recall_by_source(captions, data.objects)}
            if model.attention:
                row["grounding"] = round(attention_grounding(model, data.take(args.images // 2)), 1)
            print(json.dumps(row), flush=True)
            rows.append(row)
    out = Path(args.out)
    atomic_write_json(out / "captioning_recall.json", {"images_per_split": args.images, "rows": rows})
    lines = ["# Captioners: object recall by the objects' source", "",
             f"Greedy, Keras float, the first {args.images} images of each split (grounding: the first "
             f"{args.images // 2}). `python benchmarks/captioning_recall.py`", "",
             "| model | split | BLEU-4 | recall | fashion | digit | emoji | grounding |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        s = r["by_source"]
        lines.append(f"| {r['model']} | {r['split']} | {r['bleu4']:.2f} | {r['object_recall']:.1f} | "
                     f"{s.get('fashion', '')} | {s.get('digit', '')} | {s.get('emoji', '')} | {r.get('grounding', '')} |")
    atomic_write_text(out / "captioning_recall.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
