"""Model cards: one JSON and one Markdown file per exported model (numpy-free, TF-free).

A card gathers what a user deciding whether to ship a model needs: size, ops and which of
them the GPU delegate takes, the task metric of the float Keras model and of the exported
model, latency on the machine that built it, the data and its licence, and the command that
retrains it. It is made from `model.json` and, when present, the `training.json` that
`deepedge train` writes beside the `.keras` file.
"""

import json
import os
import platform
from pathlib import Path

from deepedge.errors import ModelFileError
from deepedge.runtime.lookups import table_bytes
from deepedge.runtime.metadata import METADATA_NAME
from deepedge.fileio import atomic_write_json, atomic_write_text

CARD_JSON = "card.json"
CARD_MARKDOWN = "card.md"
LICENCE = "Apache-2.0 (model weights and code); data licence above"


def machine_description():
    """CPU model, core count and widest vector instructions, e.g. 'AMD EPYC 9B14 (2 cores,
    AVX-512), Linux x86_64': machines sold under one name differ several times over in XNNPACK's
    int8 speed (AVX-512 against AVX2 alone)."""
    from deepedge.machine import cpu_flags, cpu_name

    vector = next((name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("asimd", "NEON"))
                   if flag in cpu_flags()), None)
    cores = f"{os.cpu_count()} cores" + (f", {vector}" if vector else "")
    return f"{cpu_name()} ({cores}), {platform.system()} {platform.machine()}"


def build_card(model_dir, data=None, export_command=None, unit=None, training_dir=None):
    """The card's contents as a dict, from the files in `model_dir` (and `training.json` in
    `training_dir`, `model_dir` by default)."""
    model_dir = Path(model_dir)
    meta = json.loads((model_dir / METADATA_NAME).read_text())
    training_path = Path(training_dir or model_dir) / "training.json"
    training = json.loads(training_path.read_text()) if training_path.exists() else None
    card = {
        "name": meta["name"],
        "task": meta["task"],
        "family": meta["family"],
        "quantization": meta["quantization"],
        "params": meta.get("params"),
        "size_bytes": meta["size_bytes"],
        "ops": meta["ops"],
        "gpu_delegate": meta["gpu_delegate"],
        "metrics": meta.get("metrics"),
        "input": meta.get("input"),
        "language_model": meta.get("language_model"),
        "footprint": meta.get("footprint"),
        "accelerators": meta.get("accelerators"),
        "xnnpack_rewrites": meta.get("xnnpack_rewrites"),
        "lookups": [{k: entry[k] for k in ("signature", "ids", "table", "rows", "width")}
                    for entry in meta.get("lookups") or []] or None,
        "latency_us": {**meta["latency_us"], "machine": machine_description(),
                       "runtime": "ai-edge-litert interpreter, XNNPACK"},
        "data": data,
        "licence": meta.get("licence") or LICENCE,
        "float_ops": meta.get("float_ops"),
        "keras_model": meta.get("keras_model"),
        "repair": meta.get("repair"),
        "export_command": export_command,
        "unit": unit,
    }
    if training:
        card["training"] = {
            "command": training["command"],
            "epochs": training["recipe"].get("epochs"),
            "steps": training.get("steps"),
            "episodes": training.get("episodes"),
            "recipe": training["recipe"],
            "train_examples": training.get("train_examples", training.get("train_tokens",
                                                                          training.get("examples_per_epoch"))),
            "train_unit": ("tokens" if "train_tokens" in training else
                           "examples per epoch, drawn afresh every epoch" if "examples_per_epoch" in training
                           else "examples"),
            "validation_metric": ({"name": training["metric"], "value": training["validation_metric"]}
                                  if "validation_metric" in training else None),
            "validation_perplexity": training.get("validation_perplexity"),
            "seconds": training.get("training_seconds"),
            "validation_accuracy": training.get("validation_accuracy"),
            "note": training.get("note"),
            "distribution": training.get("distribution"),
            "quantization_aware": training.get("quantization_aware"),
        }
    return card


def distribution_text(record):
    """One sentence of where and how a model trained (`Distribution.record` in training.json):
    replicas and devices, strategy, workers, precision, XLA and the global batch."""
    replicas, workers = record["replicas"], record["workers"]
    batch = f"global batch {record['global_batch_size']:,}"
    if replicas > 1:
        batch += f" ({record['per_replica_batch_size']:,} per replica)"
    return (f"Trained on {replicas} {record['device']} replica{'s' * (replicas != 1)} "
            f"({record['strategy']} strategy, {workers} worker{'s' * (workers != 1)}) in {record['precision']}, "
            f"XLA {'on' if record['jit_compile'] else 'off'}; {batch}.")


def device_rows(card):
    """Card rows for flash, RAM and each accelerator target (`accelerators.device_summary`); none
    for a model exported before the report existed."""
    memory, targets = card.get("footprint"), card.get("accelerators")
    if not memory or not targets:
        return []
    from deepedge.export.graph import format_op_counts
    from deepedge.export.memory import format_bytes

    xnnpack, micro, edgetpu = targets["xnnpack"], targets["micro"], targets["edgetpu"]
    micro_ram = f", TFLite Micro {format_bytes(memory['micro_arena_bytes'])}" if memory.get("micro_arena_bytes") else ""
    lookups = card.get("lookups") or []
    tables = table_bytes(lookups)
    flash = "file" if not tables else f"file and {len(tables)} lookup table{'s' if len(tables) > 1 else ''}"
    lifted = "; embedding lookups lifted into the runtime (deepedge.export.lookups): " + ", ".join(
        f"{entry['signature']} {entry['ids']} ({entry['rows']:,} x {entry['width']} int8 in {entry['table']})"
        for entry in lookups) if lookups else ""
    rows = [("flash / RAM", f"{format_bytes(memory['flash_bytes'])} {flash}; tensor arena LiteRT "
                            f"{format_bytes(memory['litert_arena_bytes'])}{micro_ram}"),
            ("XNNPACK (CPU)", f"{xnnpack['delegated']}/{xnnpack['ops']} ops"
                              + (f"; reference kernels: {format_op_counts(xnnpack['cpu_ops'])}" if xnnpack["cpu_ops"] else "")
                              + (f"; rewritten for it (deepedge.export.rewrite): "
                                 f"{format_op_counts(card['xnnpack_rewrites'])}" if card.get("xnnpack_rewrites") else "")
                              + lifted),
            ("TFLite Micro", f"runs, arena {micro['arena_bytes']:,} bytes" if micro.get("loads")
             else f"does not load: {', '.join(micro.get('unsupported_ops') or []) or micro.get('reason')}"),
            ("Edge TPU (documented ops)", f"{edgetpu['edgetpu']}/{edgetpu['ops']} ops"
             + (f"; from {edgetpu['first_unsupported']} on, the CPU" if edgetpu.get("first_unsupported") else ""))]
    return rows


def exported_metric(metrics):
    """The exported model's value of the metric (`litert_int8`, `litert_float16`, ...)."""
    return next(v for k, v in metrics.items() if k.startswith("litert_"))


# Hugging Face pipeline tags (huggingface.co/docs/hub/model-cards) of deepedge's tasks.
PIPELINE_TAGS = {"image_classification": "image-classification", "scene_labelling": "image-segmentation",
                 "keyword_spotting": "audio-classification", "speech_recognition": "automatic-speech-recognition",
                 "language_model": "text-generation", "translation": "translation", "captioning": "image-to-text",
                 "glimpse_classification": "image-classification", "q_learning": "reinforcement-learning"}


def front_matter(card):
    """The card's YAML front matter in the Hugging Face model-card format (library, licence,
    tags, pipeline, data set, and the metric float and exported as a `model-index` result), so a
    shipped folder can be published as it is. Values are written in JSON flow style, which YAML
    reads as they are."""
    dump = json.dumps
    task, metrics, data = card["task"], card.get("metrics") or {}, card.get("data") or {}
    pipeline = PIPELINE_TAGS.get(task)
    tags = ["deepedge", "litert", "tflite", card["quantization"], "on-device", card["family"], task]
    licence = "apache-2.0" if card.get("licence", LICENCE) == LICENCE else "other"
    lines = ["---", "library_name: litert", f"license: {licence}", f"tags: {dump(tags)}"]
    if pipeline:
        lines.append(f"pipeline_tag: {pipeline}")
    if data.get("name"):
        lines.append(f"datasets: {dump([data['name']])}")
    if metrics:
        name = metrics["metric"]
        exported = exported_metric(metrics)
        keras_kind = _keras_kind(metrics)
        dataset = {"name": data.get("name") or "held-out data", "type": data.get("name") or "custom",
                   "split": metrics.get("split", "test")}
        lines += [f"metrics: {dump([name])}", "model-index:", f"- name: {dump(card['name'])}", "  results:",
                  f"  - task: {dump({'type': pipeline or task})}", f"    dataset: {dump(dataset)}", "    metrics:",
                  f"    - {dump({'type': name, 'value': metrics['keras_float'], 'name': f'{name}, ' + keras_kind})}",
                  f"    - {dump({'type': name, 'value': exported, 'name': f'{name}, ' + card['quantization'] + ' LiteRT'})}"]
    return lines + ["---", ""]


def _keras_kind(metrics):
    """What the card calls the Keras figure: "float Keras", or the QAT model's fake-quant one."""
    return f"Keras {metrics['keras_model']}" if metrics.get("keras_model") else "float Keras"


def _number_text(value):
    return f"{value:.6g}" if isinstance(value, (int, float)) else "[" + ", ".join(f"{v:.6g}" for v in value) + "]"


def keras_model_lines(described):
    """The card's part for a model deepedge did not build (model.json's `keras_model`): its raw
    inputs with the preprocessing built into the graph, its outputs, the layers kept in float."""
    lines = ["", "## Inputs and outputs", "", "| | name | shape (per example) | preprocessing in the graph |",
             "| --- | --- | --- | --- |"]
    for spec in described.get("inputs", []):
        declared = spec.get("preprocessing")
        done = "-" if not declared else (f"x * {_number_text(declared['scale'])} + {_number_text(declared['offset'])}"
                                         + (", channels first to last" if declared["layout"] == "channels_first"
                                            else ""))
        lines.append(f"| input | {spec['name']} | {tuple(spec['shape'])}, {spec['dtype']} | {done} |")
    shapes = described.get("output_shapes") or [None] * len(described.get("outputs", []))
    lines += [f"| output | {name} | {tuple(shape) if shape else ''} | |"
              for name, shape in zip(described.get("outputs", []), shapes)]
    if described.get("float_layers"):
        lines += ["", f"Layers kept in float32: {', '.join(described['float_layers'])}."]
    return lines


def render_markdown(card, sections=None):
    """The card as Markdown, with Hugging Face front matter (`front_matter`); `sections(card)`
    adds the family's own Markdown lines after the table."""
    metrics = card.get("metrics") or {}
    lines = [*front_matter(card), f"# {card['name']}", "",
             f"{card['family'].replace('_', ' ')} / {card['task'].replace('_', ' ')}, "
             f"{card['quantization']} LiteRT, builtin ops only.", "", "| | |", "| --- | --- |"]
    rows = [("parameters", f"{card['params']:,}" if card.get("params") else "-"),
            ("file size", f"{card['size_bytes'] / 1024:.1f} KiB ({card['size_bytes']:,} bytes)")]
    if metrics:
        name = metrics["metric"]
        exported = exported_metric(metrics)
        fraction = name not in ("bleu", "bleu4", "cer", "wer", "perplexity", "mean_return")
        digits = 4 if fraction and abs(metrics["keras_float"]) <= 1 and abs(exported) <= 1 else 2  # 4 places
        keras_kind = _keras_kind(metrics)
        rows += [(f"{name}, {keras_kind}", f"{metrics['keras_float']:.{digits}f}"),
                 (f"{name}, {card['quantization']} LiteRT", f"{exported:.{digits}f}"),
                 ("loss to quantization (allowed)", f"{metrics['drop']:.{digits}f} "
                                                     f"{metrics.get('drop_unit', 'points')} ({metrics['max_drop']})"
                                                     + (f", {metrics['drop_basis']}" if metrics.get("drop_basis")
                                                        else "")),
                 ("evaluated on", f"{metrics['split']} split, {metrics['examples']:,} "
                                  f"{card.get('unit') or 'examples'}")]
    if (card.get("input") or {}).get("kind", "").startswith("audio"):
        rows.append(("input", f"16 kHz audio, float32 in [-1, 1]: {card['input'].get('preprocessing', '')}"))
    latency = card["latency_us"]
    step = f" (one `{latency['signature']}` call)" if latency.get("signature") else ""
    rows += [(f"median latency{step}", f"{latency['median']:.1f} us (p10 {latency['p10']:.1f}, p90 {latency['p90']:.1f}), "
                                f"{latency.get('threads', 1)} thread, {latency['runs']} invokes"),
             ("measured on", latency["machine"]),
             ("ops", ", ".join(card["ops"])),
             ("GPU delegate", ("the analyzer flags no op (unverified: its GPU checks were removed upstream, "
                               "tensorflow#77042)" if card.get("accelerators") else "takes every op")
              if not card["gpu_delegate"]["incompatible_ops"]
              else "cannot take " + ", ".join(card["gpu_delegate"]["incompatible_ops"]))]
    if card.get("float_ops"):
        rows.append(("ops in float32 (kept so, or no int8 kernel)",
                     ", ".join(sorted({op["op"] for op in card["float_ops"]}))))
    rows += device_rows(card)
    if card.get("data"):
        data = card["data"]
        rows += [("data", f"{data.get('name')}: {data.get('source')}"), ("data licence", data.get("licence"))]
    rows.append(("licence", card["licence"]))
    lines += [f"| {k} | {v} |" for k, v in rows]
    if card.get("keras_model"):
        lines += keras_model_lines(card["keras_model"])
    if sections is not None:
        lines += sections(card)
    if card.get("repair"):
        from deepedge.export.repair import format_repair_table

        lines += ["", "## Selective precision (`deepedge export --repair`)", "",
                  f"Each group of ops kept in float32 alone, measured with the task metric on "
                  f"{card['repair']['examples']:,} examples of the training data (never the test split).", "",
                  *format_repair_table(card["repair"], metrics.get("drop_unit", "points"))]
    if metrics and not metrics.get("passed", True):
        lines += ["", f"**Parity not met**: the {card['quantization']} model loses {metrics['drop']:.2f} "
                  f"{metrics.get('drop_unit', 'points')}, more than the {metrics['max_drop']} allowed; it was "
                  "written with `--force`."]
    training = card.get("training")
    if training:
        seconds = training.get("seconds")
        amount = (f"{training['steps']:,} steps of play ({training['episodes']:,} episodes)" if training.get("steps")
                  else f"{training['epochs']} epochs on {training['train_examples']:,} "
                       f"{training.get('train_unit', 'examples')}")
        lines += ["", "## Training", "",
                  amount + (f", {seconds / 60:.1f} minutes on the machine above" if seconds else "") + ".",
                  *([distribution_text(training["distribution"])] if training.get("distribution") else []),
                  f"Validation accuracy {100 * training['validation_accuracy']:.2f}%."
                  if training.get("validation_accuracy") is not None else
                  f"Validation perplexity {training['validation_perplexity']:.2f}."
                  if training.get("validation_perplexity") is not None else
                  f"Validation {training['validation_metric']['name'].replace('_', ' ')} "
                  f"{training['validation_metric']['value']:.2f}."
                  if training.get("validation_metric") else "",
                  *([f"Note: {training['note'].rstrip('.')}."] if training.get("note") else []),
                  "", "Retrain (resumes from its checkpoints if interrupted):", "",
                  f"    {training['command']}"]
        qat = training.get("quantization_aware")
        if qat:
            data = (f"{qat['train_tokens']:,} tokens" if "train_tokens" in qat
                    else f"{qat['states']:,} states ({qat['method']})")
            kept = f", the layers {', '.join(qat['float_layers'])} left in float" if qat.get("float_layers") else ""
            lines += ["", f"Then fine-tuned with quantization-aware training (deepedge.training.qat): {qat['epochs']} "
                      f"epoch(s) at {qat['learning_rate']:g} on {data}, {qat['training_seconds'] / 60:.1f} minutes"
                      f"{kept}; its ranges lie in qat_ranges.json beside model.keras. Again:", "",
                      f"    {qat['command']}"]
    if card.get("export_command"):
        lines += ["", "Export and measure again:", "", f"    {card['export_command']}"]
    return "\n".join(lines).rstrip() + "\n"


def write_model_card(model_dir, data=None, export_command=None, unit=None, sections=None, training_dir=None):
    """Writes `card.json` and `card.md` into `model_dir`; returns the card.

    Args:
        data: dict. The data set's name, source, licence and sizes.
        export_command: str. The command that exports and measures the model again.
        unit: str. What the evaluation examples are ("tokens", "images, every pixel counted").
        sections: callable `card -> [markdown lines]`, the family's own part of the card.
        training_dir: the folder whose `training.json` describes the training run.
    """
    card = build_card(model_dir, data, export_command, unit, training_dir)
    atomic_write_json(Path(model_dir) / CARD_JSON, card)
    atomic_write_text(Path(model_dir) / CARD_MARKDOWN, render_markdown(card, sections))
    return card


def refresh_card(model_dir):
    """Renders an exported model's card again with what this version of deepedge adds to every
    card (the Hugging Face front matter, flash and RAM, the accelerator rows), without
    converting or measuring the model again: the measurements stay those of its export. A
    model.json from before the device report gets its `footprint` and `accelerators`, measured
    from the .tflite as `deepedge export` would. Returns the card."""
    from deepedge.export.accelerators import device_summary
    from deepedge.registry import GENERIC_TASK, family
    from deepedge.runtime.metadata import resolve_model_paths, sha256_of

    tflite, meta_path = resolve_model_paths(model_dir)
    meta = json.loads(Path(meta_path).read_text())
    if meta.get("tflite_sha256") and meta["tflite_sha256"] != sha256_of(tflite):
        raise ModelFileError(f"{meta_path} was exported with another {tflite}; export the model again.")
    if "footprint" not in meta or "accelerators" not in meta:
        meta.update(device_summary(Path(tflite).read_bytes()))
        atomic_write_json(meta_path, meta)
    card_path = Path(model_dir) / CARD_JSON
    card = json.loads(card_path.read_text())
    owner = None if meta["task"] == GENERIC_TASK else family(meta["task"])  # (no family serves a user's model)
    card.update(footprint=meta["footprint"], accelerators=meta["accelerators"])
    card["unit"] = card.get("unit") or (owner.unit if owner else "examples")  # (older cards did not keep it)
    atomic_write_json(card_path, card)
    atomic_write_text(Path(model_dir) / CARD_MARKDOWN, render_markdown(card, owner.card_sections if owner else None))
    return card
