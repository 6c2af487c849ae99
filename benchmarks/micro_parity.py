"""The task metric of shipped models run in TFLite Micro against the same file in LiteRT.

    python benchmarks/micro_parity.py [--out benchmarks/results] [--models NAME ...]

For every shipped model whose export found that TFLite Micro loads it (model.json's
`accelerators.micro`), the family's own evaluation on its held-out data runs twice through the
same runtime class: once on LiteRT (XNNPACK), once on TFLite Micro's Python interpreter
(PyPI `tflite-micro`) with the arena the export recorded (`deepedge evaluate --backend micro`).
Step-wise models are listed with the reason they are not run (TFLM's Python interpreter has no
signatures). Writes `micro_parity.json` and `micro_parity.md`.
"""

import argparse
import json
import time
from pathlib import Path

from deepedge.cli.evaluate import evaluate_model
from deepedge.fileio import atomic_write_json, atomic_write_text
from deepedge.presets import saved_models_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--models", nargs="*", help="Shipped model names (default: every one); the rows of the "
                        "others in an earlier micro_parity.json are kept.")
    args = parser.parse_args()
    rows = []
    for folder in sorted(p for p in saved_models_dir().iterdir() if (p / "model.json").exists()):
        meta = json.loads((folder / "model.json").read_text())
        if args.models and folder.name not in args.models:
            continue
        micro = (meta.get("accelerators") or {}).get("micro") or {}
        row = {"model": folder.name, "metric": meta.get("metrics", {}).get("metric"),
               "arena_bytes": micro.get("arena_bytes"), "size_bytes": meta["size_bytes"]}
        if not micro.get("loads"):
            row["skipped"] = micro.get("reason") or "TFLite Micro does not load it"
        elif "state" in meta:
            row["skipped"] = "step-wise (signatures): TFLM's Python interpreter runs the first subgraph only"
        else:
            for backend in ("litert", "micro"):
                started = time.perf_counter()
                result = evaluate_model(folder.name, backend=backend)
                row[backend] = round(result["value"], 4)
                row[f"{backend}_seconds"] = round(time.perf_counter() - started, 1)
                row["examples"] = result["examples"]
            row["difference"] = round(row["micro"] - row["litert"], 4)
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.models and (out / "micro_parity.json").is_file():  # the other models' rows stay as measured
        measured = {r["model"]: r for r in json.loads((out / "micro_parity.json").read_text())}
        rows = sorted({**measured, **{r["model"]: r for r in rows}}.values(), key=lambda r: r["model"])
    atomic_write_json(out / "micro_parity.json", rows)
    lines = ["| model | metric | LiteRT | TFLite Micro | difference | examples | arena | file |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['model']} | {r['metric']} | - | - | not run: {r['skipped'][:90]} | | "
                         f"{r['arena_bytes'] or '-'} | {r['size_bytes']:,} |")
        else:
            lines.append(f"| {r['model']} | {r['metric']} | {r['litert']:.2f} | {r['micro']:.2f} | "
                         f"{r['difference']:+.2f} | {r['examples']:,} | {r['arena_bytes']:,} | {r['size_bytes']:,} |")
    atomic_write_text(out / "micro_parity.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
