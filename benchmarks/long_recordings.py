"""Long recordings: the on-device recogniser's beam search with the language model, 1 to 60 minutes.

A recording of N minutes is built from the held-out test sentences (held-out voices, Austen
chapters never trained on) one after another with 0.3 s of silence between them, and
transcribed by the shipped `asr_ctc` int8 model with prefix beam search (beam 8) and its
character language model, as `deepedge predict speech` does. Each length runs in its own
process, which reports the wall and CPU time, the real-time factor (seconds of compute per
second of audio), the peak resident memory beyond what the recording itself takes, and the character
error rate against the concatenated transcripts. The search must hold time and memory per
second of audio constant (`deepedge.ops.ctc.BeamStream`).

    .venv/bin/python benchmarks/long_recordings.py [--minutes 1 10 60]

Writes `results/long_recordings.json` and `.md`.
"""

import argparse
import datetime
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
MODEL = "asr_ctc"
SILENCE_SECONDS = 0.3


class PeakMemory:
    """The highest resident memory (MB) of this process while the block runs, sampled every 5 ms."""

    def __enter__(self):
        self.before = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())

    @property
    def extra_mb(self):
        return self.peak - self.before


def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2 ** 20


def recording(minutes):
    """`(audio, reference transcript, sample rate)` of about `minutes` of held-out speech."""
    from deepedge.data.speech.sentences import load_sentences
    from deepedge.ops.audio import SAMPLE_RATE as rate

    data = load_sentences("test")
    gap = np.zeros(int(SILENCE_SECONDS * rate), np.float32)
    pieces, texts, samples, i = [], [], 0, 0
    while samples < minutes * 60 * rate:
        wave = np.asarray(data.waveform(i % len(data)), np.float32)
        pieces += [wave, gap]
        texts.append(data.texts[i % len(data)])
        samples += len(wave) + len(gap)
        i += 1
    return np.concatenate(pieces), " ".join(texts), rate


def measure(minutes, beam_width):
    """Runs in a child process: one recording, one transcription."""
    from deepedge.edge import load
    from deepedge.ops.ctc import character_error_rate

    runtime = load(ROOT / "saved_models" / MODEL)
    runtime.language_model  # noqa: B018 (loads it before the measurement)
    audio, reference, rate = recording(minutes)
    with PeakMemory() as memory:
        started, cpu_started = time.perf_counter(), time.process_time()
        text = runtime.transcribe(audio, beam_width=beam_width)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    duration = len(audio) / rate
    return {"minutes": round(duration / 60, 2), "beam": beam_width, "seconds": round(seconds, 2),
            "real_time_factor": round(seconds / duration, 5),
            "cpu_seconds": round(cpu_seconds, 2), "cpu_real_time_factor": round(cpu_seconds / duration, 5),
            "peak_extra_mb": round(memory.extra_mb, 1), "recording_mb": round(audio.nbytes / 2 ** 20, 1),
            "cer": round(character_error_rate([reference], [text.strip()]), 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    parser.add_argument("--beam", type=int, default=8)
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.beam)))
        return
    rows = []
    for minutes in args.minutes:
        done = subprocess.run([sys.executable, __file__, "--child", str(minutes), "--beam", str(args.beam)],
                              capture_output=True, text=True, cwd=ROOT)
        if done.returncode:
            sys.exit(f"{minutes} minutes failed:\n{done.stderr}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    from deepedge.export.card import machine_description
    from deepedge.fileio import atomic_write_json, atomic_write_text

    RESULTS.mkdir(exist_ok=True)
    report = {"date": datetime.date.today().isoformat(), "machine": machine_description(), "model": MODEL,
              "rows": rows}
    atomic_write_json(RESULTS / "long_recordings.json", report)
    lines = [f"# Long recordings: {MODEL}, beam {args.beam} with the language model ({report['date']}, "
             f"{report['machine']})", "",
             "| minutes | wall s | real-time factor (wall) | CPU s | real-time factor (CPU) | peak memory beyond the "
             "recording (MB) | recording (MB) | CER % |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['minutes']} | {r['seconds']} | {r['real_time_factor']} | {r['cpu_seconds']} | "
              f"{r['cpu_real_time_factor']} | {r['peak_extra_mb']} | {r['recording_mb']} | {r['cer']} |" for r in rows]
    lines += ["", "The interpreter runs on one thread; the CPU time is this process's own, so it holds when other "
              "jobs share the machine, where the wall time does not."]
    atomic_write_text(RESULTS / "long_recordings.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
