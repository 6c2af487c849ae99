"""Speech benchmark: the shipped keyword spotter on every kind of speech it never trained on.

In one run, on this CPU, for `kws_dscnn`:
- accuracy, keyword accuracy and false accepts (unknown words, silence) as float Keras and as
  the int8 LiteRT model, with the calibrated rejection threshold, on: the held-out espeak-ng
  voice variants, the held-out flite voice (`slt`), six held-out neural voices (Kokoro-82M),
  the real speaker of alsa-utils, the real telephone speaker of Asterisk's prompts (digits,
  "no" and 213 other words), and the held-out voices under babble, white noise, a telephone
  band, a reverberant room and faster or slower speech;
- the file size and the batch-1 latency of one 1-second clip in Keras `model(x)`, LiteRT
  float32 and LiteRT int8 (one thread, median of rounds interleaved over the models);
- the streaming real-time factor of the on-device detector (1-second windows every 0.25 s).

Results go to `results/speech.json` and `.md`.

    .venv/bin/python benchmarks/speech.py
"""

import argparse
import datetime
import tempfile
import time
from pathlib import Path


import numpy as np

from deepedge.apps.speech import KeywordSpotter
from deepedge.data.speech import (CONDITIONS, compose_stream, load_alsa_speech, load_asterisk_keywords, load_keywords,
                                  neural_keywords)
from deepedge.edge import load
from deepedge.runtime.bench import call_latency_us, interleaved_latency
from deepedge.export.card import machine_description
from deepedge.export.convert import convert, single_batch_model
from deepedge.ops.keywords import keyword_report
from deepedge.fileio import atomic_write_json, atomic_write_text
from deepedge.presets import shipped_model_dir

ROOT = Path(__file__).resolve().parent.parent
MODEL = "kws_dscnn"


def keras_latency_us(model, clip, runs=50):
    x = np.asarray(clip[None], np.float32)
    return call_latency_us(lambda: model(x, training=False), runs=runs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--render", action="store_true", help="Only rewrite speech.md from speech.json.")
    args = parser.parse_args(argv)
    if args.render:
        import json

        result = json.loads((ROOT / "benchmarks" / "results" / "speech.json").read_text())
        text = render_markdown(result, result["rows"][0]["litert_int8"]["threshold"])
        atomic_write_text(ROOT / "benchmarks" / "results" / "speech.md", text)
        print(text)
        return
    folder = shipped_model_dir(MODEL)
    model = KeywordSpotter.load(folder / "model.keras")
    runtime = load(folder)
    test = load_keywords("test")
    flite = np.array([s.startswith("flite:") for s in test.speakers])
    sets = [("held-out espeak-ng voices, clean", test.select(np.flatnonzero(~flite), "espeak-ng")),
            ("held-out flite voice (slt), clean", test.select(np.flatnonzero(flite), "flite")),
            ("held-out neural voices (Kokoro), clean", neural_keywords("test")),
            ("a real speaker (alsa-utils)", load_alsa_speech()),
            ("a real speaker on a telephone line (Asterisk prompts)", load_asterisk_keywords())]
    for condition, augmentation in CONDITIONS.items():
        if augmentation is not None:
            clips = test.clips(np.random.default_rng(11), augmentation)
            sets.append((f"held-out voices, {condition}", (np.round(clips * 32767).astype(np.int16), test.labels)))
    rows = []
    for name, data in sets:
        audio, labels = (data.audio, data.labels) if hasattr(data, "audio") else data
        started = time.perf_counter()
        float_report = keyword_report(model.scores(audio), labels, model.class_names, model.threshold)
        int8_report = keyword_report(runtime.predict(audio), labels, model.class_names, runtime.threshold)
        rows.append({"data": name, "clips": int(len(labels)), "keras_float": float_report, "litert_int8": int8_report,
                     "seconds": round(time.perf_counter() - started, 1)})
        print(f"{name}: float {float_report['accuracy_with_threshold']:.2f} int8 "
              f"{int8_report['accuracy_with_threshold']:.2f} FA {int8_report['false_accepts_unknown']:.1f}", flush=True)
    # Latency: Keras model(x), LiteRT float32 and int8 of one 1-second clip.
    clip = test.audio[0].astype(np.float32) / 32768.0
    keras_us = keras_latency_us(model, clip)
    with tempfile.TemporaryDirectory() as tmp:
        float_path = Path(tmp) / "float32.tflite"
        float_path.write_bytes(convert(single_batch_model(model), "float32"))
        from ai_edge_litert.interpreter import Interpreter

        float_interpreter = Interpreter(model_path=str(float_path), num_threads=1)
        float_interpreter.allocate_tensors()
        latency = interleaved_latency({"litert_float32": float_interpreter, "litert_int8": runtime.interpreter},
                                      rounds=args.rounds, runs=args.runs)
        float_size = float_path.stat().st_size
    # What the float front end buys: the same model with every op the converter can quantize in int8
    # (the power spectrum and mel filterbank included; RFFT2D has no int8 kernel and stays float).
    from deepedge.data.speech import SpeechAugmentation
    from deepedge.export.convert import _run_converter
    from deepedge.backend import tf

    calibration = load_keywords("train").take(500).clips(np.random.default_rng(7), SpeechAugmentation())

    def representative():
        for clip in calibration:
            yield [clip[None]]

    edge_model = single_batch_model(model)
    flat = _run_converter(tf.lite.TFLiteConverter.from_keras_model(edge_model), "int8", representative, edge_model,
                          int8_io=False, strict_int8=False)
    with tempfile.TemporaryDirectory() as tmp:
        from ai_edge_litert.interpreter import Interpreter

        path = Path(tmp) / "all_int8.tflite"
        path.write_bytes(flat)
        all_int8 = Interpreter(model_path=str(path), num_threads=1)
        all_int8.allocate_tensors()
        detail, out_detail = all_int8.get_input_details()[0], all_int8.get_output_details()[0]
        predictions = []
        for clip in test.audio.astype(np.float32) / 32768.0:
            all_int8.set_tensor(detail["index"], clip[None])
            all_int8.invoke()
            predictions.append(int(np.argmax(all_int8.get_tensor(out_detail["index"]))))
        all_int8_latency = interleaved_latency({"all_int8": all_int8}, rounds=3, runs=300)["all_int8"]["median"]
    result_front_end = {"accuracy": round(100.0 * float(np.mean(np.array(predictions) == test.labels)), 2),
                        "size_bytes": len(flat), "latency_us": round(all_int8_latency, 1)}
    print("all-int8 front end:", result_front_end, flush=True)
    # Streaming: a minute of held-out voices through the on-device detector.
    rng = np.random.default_rng(5)
    stream, said = compose_stream(test.utterances, rng.choice(len(test), 60, replace=False), rng)
    started = time.perf_counter()
    detections = list(runtime.detect(stream))
    stream_seconds = time.perf_counter() - started
    result = {
        "model": MODEL, "params": int(model.count_params()), "date": datetime.date.today().isoformat(),
        "machine": machine_description(), "rows": rows,
        "size_bytes": {"litert_int8": runtime.tflite_path.stat().st_size, "litert_float32": float_size},
        "latency_us": {"keras_model_call": round(keras_us, 1),
                       **{k: round(v["median"], 1) for k, v in latency.items()}},
        "streaming": {"audio_seconds": round(len(stream) / 16000, 1), "compute_seconds": round(stream_seconds, 3),
                      "real_time_factor": round(stream_seconds / (len(stream) / 16000), 4),
                      "hop_seconds": 0.25, "detections": len(detections), "utterances": len(said)},
        "int8_front_end": result_front_end,
    }
    out = ROOT / "benchmarks" / "results"
    atomic_write_json(out / "speech.json", result)
    text = render_markdown(result, runtime.threshold)
    atomic_write_text(out / "speech.md", text)
    print(text)


def render_markdown(result, threshold):
    def pct(v):
        return "-" if v is None else f"{v:.1f}"

    lines = [f"# Speech benchmark: {result['model']}", "", f"{result['date']}, {result['machine']}, one interpreter "
             "thread.", "", f"Accuracy over all 22 classes by argmax (the parity metric), then with the rejection "
             f"threshold {threshold:.2f} calibrated on validation voices (a keyword below it counts as `_unknown_`), "
             "keyword accuracy and false accepts with the threshold.", "",
             "| data | clips | float acc % | int8 acc % | int8 acc %, threshold | int8 keyword acc % "
             "| int8 false accepts, unknown % | int8 false accepts, silence % |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in result["rows"]:
        f, q = row["keras_float"], row["litert_int8"]
        lines.append(f"| {row['data']} | {row['clips']} | {f['accuracy']:.2f} | {q['accuracy']:.2f} | "
                     f"{q['accuracy_with_threshold']:.2f} | {pct(q['keyword_accuracy'])} | "
                     f"{pct(q['false_accepts_unknown'])} | {pct(q['false_accepts_silence'])} |")
    size, lat, s, fe = result["size_bytes"], result["latency_us"], result["streaming"], result["int8_front_end"]
    lines += ["", "| | Keras model(x) | LiteRT float32 | LiteRT int8 |", "| --- | ---: | ---: | ---: |",
              f"| latency, one 1-second clip (us) | {lat['keras_model_call']:,.0f} | {lat['litert_float32']:,.0f} | "
              f"{lat['litert_int8']:,.0f} |",
              f"| file (KiB) | - | {size['litert_float32'] / 1024:.1f} | {size['litert_int8'] / 1024:.1f} |", "",
              "Front end: shipped with the log-mel front end in float32 (the network after it int8). With every op "
              "the converter can quantize in int8, power spectrum and mel filterbank included, the same model scores "
              f"{fe['accuracy']:.2f}% on the clean test clips ({fe['size_bytes'] / 1024:.1f} KiB, "
              f"{fe['latency_us']:.0f} us).", "",
              f"Streaming on device: {s['audio_seconds']} s of held-out speech ({s['utterances']} utterances) in "
              f"{s['compute_seconds']:.2f} s with 1-second windows every 0.25 s: real-time factor "
              f"{s['real_time_factor']:.4f}, {s['detections']} detections.", ""]
    return "\n".join(lines)

if __name__ == "__main__":
    main()
