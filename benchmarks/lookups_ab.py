"""Decoding speed of token models before and after an export change, interleaved, one thread.

    python benchmarks/lookups_ab.py OLD_DIR NAME [NAME ...] [--rounds 3] [--out results/NAME.json]

For each shipped model NAME, `OLD_DIR/NAME` (an earlier export, e.g. from git: `git worktree
add /tmp/before 5ee2d7a` then `OLD_DIR=/tmp/before/saved_models`) and `saved_models/NAME` are
loaded in the on-device runtime and timed in turns, so a slow stretch of a shared machine hits
both alike; each model runs its task's own decoding:

- translators: the first 120 test sentences with beam 4, target tokens a second;
- captioners: the encoder and a 12-word caption with beam 3 on 40 test images, median ms;
- language models: per-token time of the perplexity loop over 3,000 test tokens, microseconds.

Prints one JSON line per model (old, new, new/old and whether the outputs are the same) and
writes `results/lookups_ab.json`. How the lifted embedding lookups (`deepedge.export.lookups`)
were timed on 2026-12-06 against the exports of 5ee2d7a.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from deepedge.registry import family_of_preset
from deepedge.runtime import load

RESULTS = Path(__file__).parent / "results" / "lookups_ab.json"


def decoder(name, runtime):
    """`(run(runtime) -> (value, outputs), unit)` for the shipped model `name`."""
    family = family_of_preset(name)
    if family.family == "translation":
        from deepedge.ops.decoding import target_tokens

        sources = list(family.load_data(runtime.metadata["data"], "test").sources)[:120]

        def run(model):
            started = time.perf_counter()
            out = model.translate(sources, 4)
            return target_tokens(model.target_tokenizer, out) / (time.perf_counter() - started), out

        return run, "target tokens a second, beam 4"
    if family.family == "captioning":
        images = family.load_data("captions", "test").images[:40].astype(np.float32)

        def run(model):
            times, out = [], []
            for image in images:
                started = time.perf_counter()
                out.append(model.caption(image, 3, max_tokens=13))
                times.append(time.perf_counter() - started)
            return 1000 * float(np.median(times)), out

        return run, "ms median, encoder and a 12-word caption with beam 3"
    from deepedge.data.text import load_austen

    ids = np.asarray(runtime.tokenizer.encode_paragraphs(load_austen("test").paragraphs), np.int32)[:3000]

    def run(model):
        started = time.perf_counter()
        nll = model.token_nll(ids)
        return 1e6 * (time.perf_counter() - started) / len(ids), round(float(np.exp(nll.mean())), 4)

    return run, "microseconds a token"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_dir", type=Path)
    parser.add_argument("names", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes (default %(default)s)")
    args = parser.parse_args()
    results = {}
    for name in args.names:
        old, new = load(args.old_dir / name, num_threads=1), load(Path("saved_models") / name, num_threads=1)
        run, unit = decoder(name, new)
        values = {"old": [], "new": []}
        for _ in range(args.rounds):
            for key, model in (("old", old), ("new", new)):
                value, outputs = run(model)
                values[key].append(value)
                values[f"{key}_outputs"] = outputs
        medians = {key: float(np.median(values[key])) for key in ("old", "new")}
        results[name] = {"unit": unit, "old": round(medians["old"], 2), "new": round(medians["new"], 2),
                         "new_over_old": round(medians["new"] / medians["old"], 3),
                         "same_outputs": values["old_outputs"] == values["new_outputs"]}
        print(name, json.dumps(results[name]), flush=True)
    args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "old_dir": str(args.old_dir),
                                   "rounds": args.rounds, "models": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
