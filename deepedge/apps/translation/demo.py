"""`deepedge demo translation`: the shipped translators on device: BLEU float and int8, the
word-for-word baseline, speed, sample translations, and where attention looks (Bahdanau et al. Fig. 3)."""

import time
from pathlib import Path

ALIGNMENT_SENTENCES = 3


def run_translation_demo(family, out, limit=None, console=None):
    """The shipped translators over their held-out pairs; draws attention alignments into `out`."""
    from rich.console import Console
    from rich.table import Table

    from deepedge.apps.translation.metrics import translation_report
    from deepedge.ops.decoding import target_tokens
    from deepedge.presets import saved_models_dir
    from deepedge.runtime import load

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = family.installed_models()
    table = Table(title="Translation on device (held-out pairs, sacrebleu BLEU)")
    table.add_column("model", no_wrap=True)
    for column in ("data", "pairs", "float greedy", "int8 greedy", "int8 beam 4 (now)", "longest bucket",
                   "word-for-word (+ dictionary)", "MiB", "tokens/s beam 4"):
        table.add_column(column, justify="right")
    samples = {}
    for name in names:
        runtime = load(saved_models_dir() / name)
        data, _ = family.fitting(runtime, family.load_data(runtime.metadata["data"], "test"))
        if limit:
            data = data.take(limit)
        with console.status(f"{name}: translating {len(data)} {data.name} test sentences on device (beam 4)..."):
            started = time.perf_counter()
            hypotheses = runtime.translate(list(data.sources), 4)
            seconds = time.perf_counter() - started
        tokens = target_tokens(runtime.target_tokenizer, hypotheses)
        report = translation_report(hypotheses, data)
        metrics = runtime.metadata.get("metrics") or {}
        recorded = metrics.get("translation") or {}
        buckets = report["by_source_length"]
        longest = list(buckets)[-1] if buckets else None
        table.add_row(name, data.name, str(len(data)), f"{metrics.get('keras_float', float('nan')):.2f}",
                      f"{metrics.get('litert_int8', float('nan')):.2f}", f"{report['bleu']:.2f}",
                      f"{buckets[longest]['bleu']:.2f} ({longest})" if longest else "-",
                      " / ".join(f"{recorded[key]['bleu']:.2f}" for key in ("baseline_word_for_word",
                                                                             "baseline_with_lexicon")
                                 if key in recorded) or "-",
                      f"{runtime.metadata['size_bytes'] / 2**20:.1f}", f"{tokens / seconds:,.0f}")
        samples[name] = list(zip(data.sources, data.targets, hypotheses))[:3]
        if runtime.metadata.get("attention"):
            path = out / f"{name}_attention.png"
            draw_alignments(runtime, data.sources[:ALIGNMENT_SENTENCES], path, title=name)
            console.print(f"Wrote {path} (where the decoder looks in the source, Bahdanau et al. Fig. 3)")
    console.print(table)
    for name, rows in samples.items():
        console.print(f"\n[bold]{name}[/] (int8 on device, beam 4):")
        for source, reference, hypothesis in rows:
            console.print(f"  source:     {source}\n  reference:  {reference}\n  translated: {hypothesis}\n",
                          highlight=False)
    return table


def draw_alignments(runtime, sentences, path, title=""):
    """One heat map per sentence: the attention weights of each output word (rows, greedy
    decoding on device) over the source words and the end token (columns)."""
    from deepedge.plots import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(1, len(sentences), figsize=(5.5 * len(sentences), 5.5))
    for ax, sentence in zip(list(axes) if len(sentences) > 1 else [axes], sentences):
        translation = runtime.translate(sentence)
        source_words = runtime.source_tokenizer.split(sentence) + ["</s>"]
        target_words = runtime.target_tokenizer.split(translation) + ["</s>"]
        weights = [step[0][:len(source_words)] for step in runtime.last_attention][:len(target_words)]
        ax.imshow(weights, cmap="gray", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(source_words)), source_words, rotation=90, fontsize=8)
        ax.set_yticks(range(len(weights)), target_words[:len(weights)], fontsize=8)
    fig.suptitle(f"{title}: attention weights (int8, on device)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
