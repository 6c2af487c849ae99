"""Language-modelling benchmark: the shipped Austen LMs against a Kneser-Ney n-gram, on this CPU.

On the Austen test chapters, with the shipped model's tokenizer (the same vocabulary, unknown
and paragraph-end tokens for every row), it measures in one run: the test perplexity of
interpolated modified Kneser-Ney 3- and 5-gram models, and of each shipped neural model as
float Keras and as int8 LiteRT; the int8 file size; the latency of one step in Keras
(`step_model(x)`) and in LiteRT int8 (one thread); and on-device generation speed over 1,000
sampled tokens (top-k 40, temperature 0.8, the decode loop in numpy included). Results go to
`results/language_modelling.json` and `.md`.

    .venv/bin/python benchmarks/language_modelling.py
"""

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

from deepedge.backend import keras  # first: silences TensorFlow's start-up logs

import numpy as np

from deepedge.apps.language_modelling import LanguageModel
from deepedge.ops.ngram import KneserNey
from deepedge.data.text import load_austen
from deepedge.edge import load
from deepedge.export.card import machine_description
from deepedge.ops.decoding import Sampler, sample_sequence
from deepedge.fileio import atomic_write_json, atomic_write_text

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("austen_lstm_word", "austen_nplm")


def keras_step_latency(model, runs=200):
    step = model.step_model()
    state = model.initial_state()
    inputs = [np.array([5], np.int32)] + [state[name] for name, *_ in model.state_spec()]
    for _ in range(10):
        step(inputs, training=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        step(inputs, training=False)
        times.append((time.perf_counter_ns() - start) / 1000)
    return float(np.median(times))


def generation_speed(runtime, tokens=1000, seed=0):
    step = runtime.step_fn()
    sampler = Sampler("sample", temperature=0.8, top_k=40, banned=(runtime.tokenizer.unknown_id,))
    prompt = [runtime.tokenizer.end_id] + runtime.tokenizer.encode("It is a truth universally acknowledged")
    started = time.perf_counter()
    out = sample_sequence(step, prompt, runtime.initial_state(), tokens, sampler, stop_token=None, seed=seed)
    seconds = time.perf_counter() - started
    return (len(out) + len(prompt)) / seconds, runtime.tokenizer.decode(prompt[1:] + out[:80])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args(argv)
    saved = ROOT / "saved_models"
    names = [n for n in MODELS if (saved / n / "model.json").exists()]
    if not names:
        sys.exit("No shipped language model in saved_models/; run `deepedge train austen_lstm_word` first.")
    train, test = load_austen("train"), load_austen("test")
    reference = load(saved / names[0])
    tokenizer = reference.tokenizer
    train_ids = tokenizer.encode_paragraphs(train.paragraphs)
    test_ids = np.asarray(tokenizer.encode_paragraphs(test.paragraphs), np.int32)
    rows = []
    for order in (3, 5):
        started = time.perf_counter()
        kn = KneserNey(order).fit(train_ids, tokenizer.vocabulary_size)
        fit_seconds = time.perf_counter() - started
        rows.append({"model": f"Kneser-Ney {order}-gram (interpolated, modified)", "kind": "counts",
                     "ngrams": sum(kn.num_ngrams.values()), "test_perplexity_float": round(kn.perplexity(test_ids), 2),
                     "fit_seconds": round(fit_seconds, 1)})
        print(rows[-1], flush=True)
    baseline = rows[-1]["test_perplexity_float"]
    for name in names:
        folder = saved / name
        model = LanguageModel.load(folder / "model.keras")
        runtime = load(folder)
        training = json.loads((folder / "training.json").read_text()) if (folder / "training.json").exists() else {}
        float_ppl = model.perplexity(test_ids)
        started = time.perf_counter()
        int8_ppl = runtime.perplexity(test_ids)
        eval_seconds = time.perf_counter() - started
        speed, sample = generation_speed(runtime)
        from deepedge.runtime.bench import measure_latency

        rows.append({
            "model": name, "kind": type(model).__name__, "params": int(model.count_params()),
            "test_perplexity_float": round(float_ppl, 2), "test_perplexity_int8": round(int8_ppl, 2),
            "int8_vs_float_percent": round(100 * (int8_ppl - float_ppl) / float_ppl, 2),
            "below_kneser_ney_5gram_percent": round(100 * (baseline - float_ppl) / baseline, 1),
            "int8_below_kneser_ney_5gram_percent": round(100 * (baseline - int8_ppl) / baseline, 1),
            "int8_bytes": runtime.tflite_path.stat().st_size,
            "keras_step_us": round(keras_step_latency(model), 1),
            "litert_int8_step_us": measure_latency(runtime.interpreter, runs=2000, signature="step")["median"],
            "int8_perplexity_seconds": round(eval_seconds, 1),
            "generation_tokens_per_second": round(speed, 0),
            "training_minutes": round(training.get("training_seconds", 0) / 60, 1),
            "sample": sample,
        })
        print({k: v for k, v in rows[-1].items() if k != "sample"}, flush=True)
    result = {"date": datetime.date.today().isoformat(), "machine": machine_description(),
              "test_tokens": int(len(test_ids)), "vocabulary_size": tokenizer.vocabulary_size, "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "language_modelling.json", result)
    lines = [f"# Language modelling on Austen's test chapters ({result['date']})", "",
             f"{result['test_tokens']:,} test tokens, vocabulary {result['vocabulary_size']:,} (same tokenizer for "
             f"every row); {result['machine']}; LiteRT on one thread.", "",
             "| model | params / n-grams | float ppl | int8 ppl | vs KN-5 | int8 MiB | Keras step us | "
             "LiteRT int8 step us | generation tok/s | training min |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        if r["kind"] == "counts":
            lines.append(f"| {r['model']} | {r['ngrams']:,} n-grams | {r['test_perplexity_float']:.2f} | - | - | - | "
                         f"- | - | - | {r['fit_seconds'] / 60:.1f} |")
        else:
            lines.append(f"| {r['model']} | {r['params']:,} | {r['test_perplexity_float']:.2f} | "
                         f"{r['test_perplexity_int8']:.2f} | -{r['below_kneser_ney_5gram_percent']:.1f}% | "
                         f"{r['int8_bytes'] / 2**20:.1f} | {r['keras_step_us']:.0f} | {r['litert_int8_step_us']:.0f} | "
                         f"{r['generation_tokens_per_second']:,.0f} | {r['training_minutes']:.1f} |")
    lines += ["", "Samples (int8, on device):", ""]
    lines += [f"- {r['model']}: {r['sample']}" for r in rows if "sample" in r]
    atomic_write_text(out / "language_modelling.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
