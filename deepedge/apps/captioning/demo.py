"""`deepedge demo captioning`: the shipped captioners on device over held-out images: BLEU-4,
CIDEr-D, object recall float and int8, sample captions next to their references, and the
picture of the review's Fig. 3 (the image with one attention map per word)."""

from pathlib import Path

import numpy as np

FIGURE_IMAGES = 3


def run_captioning_demo(family, out, limit=None, console=None):
    """The shipped captioners over the held-out combinations; draws attention maps into `out`."""
    from rich.console import Console
    from rich.table import Table

    from deepedge.apps.captioning.metrics import caption_report
    from deepedge.presets import saved_models_dir
    from deepedge.runtime import load

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = family.installed_models()
    data = family.load_data("captions", "test_combinations")
    if limit:
        data = data.take(limit)
    table = Table(title=f"Captioning on device ({len(data)} images of held-out combinations, beam 3)")
    table.add_column("model", no_wrap=True)
    for column in ("float BLEU-4", "int8 BLEU-4", "int8 BLEU-4 (now)", "CIDEr-D", "object recall", "grounding",
                   "KiB", "ms / caption"):
        table.add_column(column, justify="right")
    samples = {}
    for name in names:
        runtime = load(saved_models_dir() / name)
        with console.status(f"{name}: captioning {len(data)} held-out images on device (beam 3)..."):
            hypotheses = runtime.caption(data.images, 3)
        report = caption_report(hypotheses, data)
        metrics = runtime.metadata.get("metrics") or {}
        recorded = (metrics.get("captioning") or {}).get("test_combinations", {})
        speed = (metrics.get("captioning") or {}).get("speed", {})
        grounding = recorded.get("edge_grounding")
        table.add_row(name, f"{metrics.get('keras_float', float('nan')):.2f}",
                      f"{metrics.get('litert_int8', float('nan')):.2f}", f"{report['bleu4']:.2f}",
                      f"{report['cider']:.1f}", f"{report['object_recall']:.1f}%",
                      "-" if grounding is None else f"{grounding:.1f}%",
                      f"{runtime.metadata['size_bytes'] / 1024:.0f}", f"{speed.get('median_ms', float('nan')):.2f}")
        samples[name] = list(zip(data.captions, hypotheses))[:3]
        if runtime.metadata.get("attention"):
            for i in range(min(FIGURE_IMAGES, len(data))):
                path = out / f"{name}_attention_{i}.png"
                draw_attention(runtime, data.images[i].astype(np.float32), path)
                console.print(f"Wrote {path} (where the decoder looks for each word, the review's Fig. 3)")
    console.print(table)
    for name, rows in samples.items():
        console.print(f"\n[bold]{name}[/] (int8 on device, beam 3):")
        for references, hypothesis in rows:
            console.print(f"  references: {' / '.join(references[:2])}\n  caption:    {hypothesis}\n", highlight=False)
    return table


def draw_attention(runtime, image, path):
    """The image, then the image under the attention map of each word of its greedy caption
    (int8 on device): the review's Fig. 3."""
    from PIL import Image

    from deepedge.plots import pyplot

    words = runtime.caption(image).split() + ["<end>"]
    maps = [step[0].reshape(runtime.grid_shape) for step in runtime.last_attention][:len(words)]
    plt = pyplot()
    fig, axes = plt.subplots(1, len(maps) + 1, figsize=(2.0 * (len(maps) + 1), 2.4))
    shown = np.clip(image, 0, 255).astype(np.uint8)
    axes[0].imshow(shown)
    axes[0].set_title("image", fontsize=9)
    size = shown.shape[0]
    for ax, word, weights in zip(axes[1:], words, maps):
        upsampled = np.asarray(Image.fromarray((weights / max(weights.max(), 1e-9) * 255).astype(np.uint8))
                               .resize((size, size), Image.BILINEAR), np.float32) / 255.0
        ax.imshow((shown * (0.25 + 0.75 * upsampled[..., None])).astype(np.uint8))
        ax.set_title(word, fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
