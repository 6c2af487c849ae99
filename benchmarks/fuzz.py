"""Fuzzing: the property tests' targets (tests/properties) run on many more examples.

Every public entry point (the shipped models' methods, the readers, tokenizers, decoders and
model.json parsing) must return a valid result or raise a `deepedge.errors.DeepEdgeError`,
whatever it is given (`tests/properties/fuzz_core.py` says exactly what is checked). The
property tests run each target on a few dozen examples; this script runs the same targets and
strategies on `--examples` each (2,000 by default) and counts, per target, the valid results,
the DeepEdgeError refusals and anything else: another exception, or a result that is wrong (a
NaN, a wrong shape). For each kind of failure it keeps the shortest example that showed it,
shrunk by hypothesis where it can. Each target runs in its own process, so a crash of the
interpreter is recorded (with its exit status) instead of ending the run.

    .venv/bin/python benchmarks/fuzz.py [--examples 2000] [--targets NAME_OR_PREFIX ...] [--seed 0] [--note TEXT]
    .venv/bin/python benchmarks/fuzz.py --list

Results go to `benchmarks/results/fuzz.json` and `fuzz.md` (`--out DIR` for elsewhere).
"""

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROPERTIES = ROOT / "tests" / "properties"  # the targets and strategies, shared with the property tests
RESULTS = Path(__file__).parent / "results"
REPR_LIMIT = 300


def _targets():
    sys.path.insert(0, str(PROPERTIES))
    from fuzz_core import all_targets

    return all_targets()


def _short(value, limit=REPR_LIMIT):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _kind(error):
    """A failure's kind: the exception type and the start of its message's first line."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:120] if lines else ''}"


def fuzz_target(name, examples, seed, workdir):
    """Counts of `examples` examples of the target `name`, and its kinds of failure."""
    from hypothesis import HealthCheck, Phase, find, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import NoSuchExample, Unsatisfiable

    from fuzz_core import Resources, check_example

    target = _targets()[name]
    resources = Resources(workdir)
    strategy = target.strategy(resources)
    counts = {"examples": 0, "valid": 0, "refused": 0, "other": 0}
    failures = {}
    quiet = dict(database=None, deadline=None, suppress_health_check=list(HealthCheck))

    @hypothesis_seed(seed)
    @settings(max_examples=examples, phases=[Phase.generate], **quiet)
    @given(strategy)
    def run(example):
        counts["examples"] += 1
        try:
            counts[check_example(target, resources, example)] += 1
        except Exception as error:  # what the property forbids: counted and kept, not raised
            counts["other"] += 1
            kind = _kind(error)
            seen = failures.setdefault(kind, {"kind": kind, "count": 0, "example": None})
            seen["count"] += 1
            if seen["example"] is None or len(repr(example)) < len(seen["example"]):
                seen["example"] = _short(example, 10_000)

    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    for kind, seen in list(failures.items())[:5]:  # shrink a reproducer of the first few kinds
        def fails_so(example, kind=kind):
            try:
                check_example(target, resources, example)
            except Exception as error:
                return _kind(error) == kind
            return False

        try:
            example = find(strategy, fails_so, settings=settings(max_examples=min(examples, 300), derandomize=True,
                                                                 **quiet))
            if len(repr(example)) < len(seen["example"]):
                seen["example"] = _short(example, 10_000)
            seen["shrunk"] = True
        except (NoSuchExample, Unsatisfiable):
            seen["shrunk"] = False
    for seen in failures.values():
        seen["example"] = _short(seen["example"], REPR_LIMIT).strip("'") if seen["example"] else None
    return {"target": name, "group": target.group, **counts, "seconds": round(seconds, 1),
            "failures": sorted(failures.values(), key=lambda f: -f["count"])}


def run_in_subprocess(name, examples, seed, timeout):
    """`fuzz_target` in a fresh interpreter; a crash or a timeout is a failure of its own."""
    with tempfile.TemporaryDirectory(prefix="deepedge_fuzz_") as workdir:
        out = Path(workdir) / "result.json"
        command = [sys.executable, __file__, "--worker", name, "--examples", str(examples), "--seed", str(seed),
                   "--workdir", workdir, "--result", str(out)]
        started = time.perf_counter()
        try:
            process = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            status = process.returncode
            tail = process.stderr.strip().splitlines()[-3:]
        except subprocess.TimeoutExpired:
            status, tail = "timeout", [f"no result after {timeout} s"]
        if status == 0 and out.exists():
            return json.loads(out.read_text())
    kind = ("timed out" if status == "timeout" else f"interpreter crashed (signal {-status})" if status < 0
            else f"the fuzzing process failed (exit status {status})")
    return {"target": name, "group": "?", "examples": None, "valid": None, "refused": None, "other": None,
            "seconds": round(time.perf_counter() - started, 1),
            "failures": [{"kind": kind, "count": 1, "example": " / ".join(tail)[-REPR_LIMIT:]}]}


def select(names, patterns):
    if not patterns:
        return list(names)
    chosen = [n for n in names if any(n == p or n.startswith(p) for p in patterns)]
    if not chosen:
        raise SystemExit(f"No target matches {patterns}; --list shows them.")
    return chosen


def write_report(report, out):
    out.mkdir(parents=True, exist_ok=True)
    (out / "fuzz.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    rows = report["targets"]
    lines = [f"# Fuzzing the entry points ({report['date']})", "",
             f"{report['machine']}; {report['examples_per_target']} examples per target (hypothesis "
             f"{report['hypothesis']}, seed {report['seed']}); {report['seconds']:.0f} s in all.", "",
             f"Command: `{report['command']}`", "",
             "Each example must give a valid result or a `DeepEdgeError`; *other* counts anything else "
             "(another exception, a NaN or wrong-shaped result, a crash).", "",
             "| target | examples | valid | refused (DeepEdgeError) | other | seconds |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['target']} | {r['examples']} | {r['valid']} | {r['refused']} | {r['other']} | {r['seconds']} |"
              for r in rows]
    totals = {k: sum(r[k] or 0 for r in rows) for k in ("examples", "valid", "refused", "other")}
    lines.append(f"| **all {len(rows)} targets** | {totals['examples']} | {totals['valid']} | {totals['refused']} | "
                 f"{totals['other']} | {report['seconds']:.0f} |")
    failed = [(r["target"], f) for r in rows for f in r["failures"]]
    lines += ["", "## Failures", ""]
    if not failed:
        lines.append("None: every example gave a valid result or a DeepEdgeError.")
    if report.get("note"):
        lines += ["", report["note"]]
    for target, failure in failed:
        lines.append(f"- `{target}`: {failure['kind']} ({failure['count']}x); shortest example: "
                     f"`{failure['example']}`")
    (out / "fuzz.md").write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="Examples per target (default 2000).")
    parser.add_argument("--targets", nargs="*", help="Targets to run, by name or prefix (default: all).")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed (the same seed draws the same examples).")
    parser.add_argument("--timeout", type=float, default=3600, help="Seconds one target may take.")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Folder for fuzz.json and fuzz.md.")
    parser.add_argument("--note", default="", help="A line for fuzz.md on how the run went (the machine's load...).")
    parser.add_argument("--list", action="store_true", help="List the targets and exit.")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, str(PROPERTIES))
        result = fuzz_target(args.worker, args.examples, args.seed, args.workdir)
        Path(args.result).write_text(json.dumps(result, ensure_ascii=False))
        return
    names = select(_targets(), args.targets)
    if args.list:
        print("\n".join(names))
        return
    import hypothesis

    from deepedge.export.card import machine_description

    started, rows = time.perf_counter(), []
    for name in names:
        row = run_in_subprocess(name, args.examples, args.seed, args.timeout)
        print(f"{name:40} {row['examples']} examples: {row['valid']} valid, {row['refused']} refused, "
              f"{row['other']} other ({row['seconds']} s)", flush=True)
        for failure in row["failures"]:
            print(f"    {failure['kind']} ({failure['count']}x): {failure['example'][:160]}", flush=True)
        rows.append(row)
    report = {"date": datetime.date.today().isoformat(), "machine": machine_description(),
              "examples_per_target": args.examples, "seed": args.seed, "hypothesis": hypothesis.__version__,
              "command": "python benchmarks/fuzz.py " + " ".join(sys.argv[1:]),
              "seconds": round(time.perf_counter() - started, 1), "note": args.note, "targets": rows}
    write_report(report, args.out)


if __name__ == "__main__":
    main()
