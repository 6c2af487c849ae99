"""Target tokens a second of the shipped translators on device: int8, beam 4, one thread, the
whole test split, as `deepedge export` measures it once at the end of an export.

    python benchmarks/translation_speed.py [NAME ...] [--passes 3] [--write]

An export's single pass is timed on whatever else the machine is doing then (the four
translators' exports of 2026-12-06 ran beside training and read 686-932 tokens a second).
This times `--passes` passes over the test split per model, each in turn with the others, and
reports the median. `--write` stores the median in the model's model.json and card.json
(`metrics.translation.speed`, with the passes and the date) and renders card.md again; the
translations must come out as the export's did, or nothing is written.
"""

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRANSLATORS = ["de_en_seq2seq", "de_en_attention", "es_en_seq2seq", "es_en_attention"]


def main(argv=None):
    from deepedge.export.card import refresh_card
    from deepedge.fileio import atomic_write_json
    from deepedge.ops.decoding import target_tokens
    from deepedge.registry import family_of_preset
    from deepedge.runtime import load

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=TRANSLATORS)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    models = {}
    for name in args.names:
        runtime = load(ROOT / "saved_models" / name, num_threads=1)
        sources = list(family_of_preset(name).load_data(runtime.metadata["data"], "test").sources)
        models[name] = (runtime, sources, [])
    outputs = {}
    for _ in range(args.passes):  # each pass of every model in turn: a slow stretch hits all alike
        for name, (runtime, sources, seconds) in models.items():
            started = time.perf_counter()
            outputs[name] = runtime.translate(sources, 4)
            seconds.append(time.perf_counter() - started)
    for name, (runtime, sources, seconds) in models.items():
        tokens = target_tokens(runtime.target_tokenizer, outputs[name])
        median = statistics.median(seconds)
        folder = ROOT / "saved_models" / name
        meta = json.loads((folder / "model.json").read_text())
        speed = meta["metrics"]["translation"]["speed"]
        row = {"model": name, "sentences": len(sources), "target_tokens": tokens,
               "seconds": [round(s, 3) for s in seconds], "tokens_per_second": round(tokens / median, 1),
               "at_export": speed["tokens_per_second"], "same_tokens_as_export": tokens == speed["target_tokens"]}
        print(json.dumps(row), flush=True)
        if args.write:
            if not row["same_tokens_as_export"]:
                print(f"{name}: {tokens} target tokens, the export wrote {speed['target_tokens']}: not written",
                      file=sys.stderr)
                continue
            speed.update(seconds=round(median, 3), tokens_per_second=row["tokens_per_second"], passes=args.passes,
                         timed=f"{datetime.date.today().isoformat()}, median of {args.passes} passes "
                               "with benchmarks/translation_speed.py")
            card = json.loads((folder / "card.json").read_text())
            card["metrics"] = meta["metrics"]
            atomic_write_json(folder / "model.json", meta)
            atomic_write_json(folder / "card.json", card)
            refresh_card(folder)


if __name__ == "__main__":
    main()
