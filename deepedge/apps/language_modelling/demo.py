"""`deepedge demo language`: the shipped language models on device: perplexity against a
Kneser-Ney 5-gram, generated text, and the learned word vectors (the review's Fig. 4)."""

from pathlib import Path


PROMPTS = ("It is a truth universally acknowledged", "She was", "\"My dear Emma,\" said he,")


def run_language_demo(family, out, limit=None, console=None, seed=0):
    """Shipped language models on device: perplexity vs a Kneser-Ney 5-gram, generation, word vectors."""
    import time

    from rich.console import Console
    from rich.table import Table

    from deepedge.ops.ngram import KneserNey
    from deepedge.data.text import load_austen
    from deepedge.runtime import load
    from deepedge.presets import saved_models_dir

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = family.installed_models()
    train, test = load_austen("train"), load_austen("test")
    if limit:
        test = test.take(limit)
    table = Table(title=f"Language modelling on device (Austen test chapters, {len(test)} chapters)")
    table.add_column("model", no_wrap=True)
    for column in ("params", "float ppl", "int8 ppl (now)", "MiB", "us/step", "gen tokens/s"):
        table.add_column(column, justify="right")
    baseline_done = False
    samples = {}
    for name in names:
        runtime = load(saved_models_dir() / name)
        ids = runtime.tokenizer.encode_paragraphs(test.paragraphs)
        if not baseline_done:
            with console.status("Counting n-grams for the Kneser-Ney 5-gram baseline..."):
                kn = KneserNey(order=5).fit(runtime.tokenizer.encode_paragraphs(train.paragraphs),
                                            runtime.tokenizer.vocabulary_size)
                table.add_row("Kneser-Ney 5-gram (counts)", f"{sum(kn.num_ngrams.values()):,} n-grams",
                              f"{kn.perplexity(ids):.2f}", "-", "-", "-", "-")
            baseline_done = True
        with console.status(f"{name}: perplexity on device over {len(ids):,} tokens..."):
            ppl = runtime.perplexity(ids)
        started, steps = time.perf_counter(), runtime.steps_run
        samples[name] = [runtime.generate(p, max_tokens=60, temperature=0.8, top_k=40, seed=seed + i)
                         for i, p in enumerate(PROMPTS)]
        rate = (runtime.steps_run - steps) / (time.perf_counter() - started)
        metrics = runtime.metadata.get("metrics") or {}
        table.add_row(name, f"{runtime.metadata.get('params', 0):,}", f"{metrics.get('keras_float', float('nan')):.2f}",
                      f"{ppl:.2f}", f"{runtime.metadata['size_bytes'] / 2**20:.1f}",
                      f"{runtime.metadata['latency_us']['median']:.0f}", f"{rate:,.0f}")
    console.print(table)
    for name, texts in samples.items():
        console.print(f"\n[bold]{name}[/] (int8, on device, temperature 0.8, top-k 40):")
        for text in texts:
            console.print(f"  {text}", highlight=False)
    _word_vector_pictures(names[0], out, console)
    return table


def _word_vector_pictures(name, out, console):
    from deepedge.apps.language_modelling.vectors import DEFAULT_QUERIES, nearest_neighbours, tsne_map
    from deepedge.apps.language_modelling.language_model import LanguageModel
    from deepedge.presets import saved_models_dir

    model = LanguageModel.load(saved_models_dir() / name / "model.keras")
    console.print(f"\nNearest neighbours in {name}'s learned word vectors (cosine):")
    for word, neighbours in nearest_neighbours(model, DEFAULT_QUERIES).items():
        console.print(f"  {word:>9}: " + ", ".join(f"{w} {s:.2f}" for w, s in neighbours), highlight=False)
    with console.status("t-SNE of the word vectors..."):
        tsne_map(model, out / f"{name}_word_vectors_tsne.png")
    console.print(f"Wrote {out / f'{name}_word_vectors_tsne.png'} (the review's Fig. 4, for Austen)")
