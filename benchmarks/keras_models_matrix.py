"""Any Keras model to the device: which models nobody here wrote convert to builtin-only int8.

For every model of `keras_models_zoo.SPECS` (keras.applications models with random weights at
96x96, keras.io-style models, four of them trained briefly on real data) it runs
`deepedge.export.diagnose` and then `deepedge.export.export_model` to int8, each model in a
process of its own (a converter or interpreter crash would show as a crash, not end the run),
and records: the verdict (builtin-only int8; int8 with ops the converter kept in float; failed,
with the message naming layer, op and fix), the problems the doctor lists, parameters, file
size, ops, the LiteRT tensor arena, XNNPACK coverage, conversion time, the median latency of one
invoke (one thread), and for the trained models the metric of the float Keras model and of the
int8 model on held-out real data. Results go to `results/keras_models_matrix.json` and `.md`.

    .venv/bin/python benchmarks/keras_models_matrix.py            # every model (about 15 minutes on 2 cores)
    .venv/bin/python benchmarks/keras_models_matrix.py --only MobileNetV2 unet
"""

import argparse
import datetime
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TIMEOUT_S = 1800


def measure(name, folder):
    """Diagnoses and exports the model `name` into `folder`; returns its row (run in a child process)."""
    from deepedge.backend import keras  # noqa: F401  (first: quiet TensorFlow)

    from keras_models_zoo import SPECS

    from deepedge.errors import ConversionError
    from deepedge.export import diagnose, export_model

    what, build, options, data = SPECS[name]
    started = time.perf_counter()
    model, calibration, evaluation = build()
    row = {"name": name, "what": what, "data": data, "params": int(model.count_params()),
           "build_seconds": round(time.perf_counter() - started, 1),
           "problems": [str(p) for p in diagnose(model)]}
    started = time.perf_counter()
    try:
        meta = export_model(model, folder, calibration_data=calibration, evaluation_data=evaluation, force=True,
                            latency_runs=200, **options)
    except ConversionError as e:
        return {**row, "verdict": "fails", "message": str(e), "seconds": round(time.perf_counter() - started, 1)}
    floats = sorted({op["op"] for op in meta.get("float_ops", [])})
    # the layer of each float op: the scope before the op's name in its tensor's name
    float_layers = sorted({re.sub(r"_\d+$", "", op["tensor"].split("/")[-2]) for op in meta.get("float_ops", [])
                           if "/" in op["tensor"]})
    verdict = ("int8, float layers " + ", ".join(options["float_layers"]) if options.get("float_layers")
               else "int8, repair kept " + (", ".join(meta["repair"]["kept"]) or "nothing") + " in float"
               if meta.get("repair") else "int8 with float ops" if floats else "builtin-only int8")
    xnnpack = meta["accelerators"]["xnnpack"]
    return {**row, "verdict": verdict, "float_ops": floats, "float_op_layers": float_layers, "ops": meta["ops"],
            "size_bytes": meta["size_bytes"], "arena_bytes": meta["footprint"]["litert_arena_bytes"],
            "xnnpack": f"{xnnpack['delegated']}/{xnnpack['ops']}",
            "convert_seconds": meta["convert_seconds"], "latency_us": meta["latency_us"]["median"],
            "metrics": meta.get("metrics"), "seconds": round(time.perf_counter() - started, 1)}


def run_child(name):
    """The row of `name`, measured in a fresh process; a crash becomes a row saying so."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "row.json"
        command = [sys.executable, __file__, "--child", name, "--row", str(out)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=ROOT)
        except subprocess.TimeoutExpired:
            return {"name": name, "verdict": "timeout", "message": f"over {TIMEOUT_S} s"}
        if done.returncode != 0 or not out.exists():
            tail = " ".join(done.stderr.strip().splitlines()[-3:])[-600:]
            verdict = "crash" if done.returncode < 0 else "error"  # killed by a signal, or a Python exception
            return {"name": name, "verdict": verdict, "message": f"exit status {done.returncode}: {tail}"}
        return json.loads(out.read_text())


def _mb(value):
    return f"{value / 2 ** 20:.2f} MB" if value else "-"


def _metric(row):
    metrics = row.get("metrics")
    if not metrics:
        return "-"
    return (f"{metrics['metric']} {metrics['keras_float']:.2f} / {metrics['litert_int8']:.2f} "
            f"({metrics['drop']:+.2f} {metrics['drop_unit']})")


def _verdict(row):
    if row["verdict"] == "fails":
        problems = [line.split(": ", 1)[-1].split(" Fix:")[0] for line in row["message"].splitlines()
                    if line[:1].isdigit()]
        first = re.sub(r"^\[error\] ", "", problems[0] if problems else row["message"].split(". ")[0])
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"fails before converting: {first}{more}".replace("|", "/")
    if row["verdict"].startswith("int8, float layers"):
        kept = row["verdict"].split("float layers ")[1].split(", ")
        return f"int8, {len(kept)} layer(s) kept in float"
    floats = row.get("float_ops")
    if floats:
        where = f" in {len(row['float_op_layers'])} layer(s)" if row.get("float_op_layers") else ""
        return f"int8; {', '.join(floats)} stay float{where}"
    return row["verdict"]


def markdown(result):
    rows = result["rows"]
    lines = ["| model | verdict | params | int8 file | arena | XNNPACK ops | latency | float / int8 (loss) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        lines.append(f"| {row['name']} | {_verdict(row)} | {row.get('params', 0):,} | {_mb(row.get('size_bytes'))} | "
                     f"{_mb(row.get('arena_bytes'))} | {row.get('xnnpack', '-')} | "
                     f"{row['latency_us'] / 1000:.2f} ms | {_metric(row)} |" if row.get("latency_us") else
                     f"| {row['name']} | {_verdict(row)} | {row.get('params', 0):,} | - | - | - | - | - |")
    return lines


def report(result):
    counts = {}
    for row in result["rows"]:
        kind = ("int8 with layers kept in float on request" if row["verdict"].startswith("int8, float layers")
                else row["verdict"])
        counts[kind] = counts.get(kind, 0) + 1
    lines = ["# Keras models nobody here wrote, to int8 LiteRT", "",
             f"{result['date']}, {result['machine']}; `{result['command']}`. Latency: one invoke, one thread, median "
             "of 200. Every exported model has builtin ops only.", "", *markdown(result), "",
             "Verdicts: " + ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items())) + ".", ""]
    for row in result["rows"]:
        lines.append(f"- **{row['name']}**: {row.get('what', '')}; data: {row.get('data', '-')}.")
        if row["verdict"] in ("fails", "crash", "error", "timeout"):
            lines.append("  " + row["message"].replace("\n", "\n  "))
        elif row.get("problems"):
            lines.append("  Doctor: " + " ".join(row["problems"]))
        if row.get("float_op_layers"):
            shown = row["float_op_layers"]
            lines.append(f"  Ops kept in float ({', '.join(row['float_ops'])}) sit in {len(shown)} layer(s): "
                         f"{', '.join(shown[:6])}{', ...' if len(shown) > 6 else ''}.")
    return "\n".join(lines) + "\n"


def main(argv=None):
    from keras_models_zoo import SPECS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(SPECS), help="Measure only these models.")
    parser.add_argument("--render", action="store_true", help="Write the .md again from the .json, measuring nothing.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--row", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            row = measure(args.child, Path(tmp) / args.child)
        Path(args.row).write_text(json.dumps(row))
        return
    from deepedge.export.card import machine_description
    from deepedge.fileio import atomic_write_json, atomic_write_text

    path = RESULTS / "keras_models_matrix.json"
    if args.render:
        atomic_write_text(RESULTS / "keras_models_matrix.md", report(json.loads(path.read_text())))
        return
    previous = {row["name"]: row for row in json.loads(path.read_text())["rows"]} if path.exists() else {}
    rows = dict(previous)
    for name in args.only or SPECS:
        print(f"{name}...", flush=True)
        rows[name] = run_child(name)
        print(f"  {_verdict(rows[name])}  {_metric(rows[name])}", flush=True)
    result = {"date": datetime.date.today().isoformat(), "machine": machine_description(),
              "command": "python benchmarks/keras_models_matrix.py" + (" --only " + " ".join(args.only) if args.only
                                                                      else ""),
              "rows": [rows[name] for name in SPECS if name in rows]}
    atomic_write_json(path, result)
    atomic_write_text(RESULTS / "keras_models_matrix.md", report(result))
    print("\n".join(markdown(result)))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
