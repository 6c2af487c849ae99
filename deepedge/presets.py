"""Where shipped models live: `saved_models/` in a checkout, `deepedge/saved_models` in a wheel."""

from pathlib import Path

from deepedge.errors import PresetNotFoundError

_PACKAGE_DIR = Path(__file__).resolve().parent

def saved_models_dir():
    """The folder of shipped models, inside the installed package or at the checkout's root."""
    for candidate in (_PACKAGE_DIR / "saved_models", _PACKAGE_DIR.parent / "saved_models"):
        if candidate.is_dir():
            return candidate
    return _PACKAGE_DIR.parent / "saved_models"


def shipped_model_dir(name):
    """The folder of one shipped model, or a clear error listing the ones that exist."""
    path = saved_models_dir() / name
    if not (path / "model.json").exists() and not (path / "model.keras").exists():
        available = sorted(p.name for p in saved_models_dir().glob("*") if p.is_dir())
        raise PresetNotFoundError(
            f"No shipped model named {name!r}. Available: {available or 'none'}. "
            "Train one with `deepedge train PRESET --out saved_models/NAME`.")
    return path


def resolve_model(model):
    """A path as given, or a shipped model's folder when `model` is a shipped name."""
    path = Path(model)
    return path if path.exists() else shipped_model_dir(model)


def train_command(name, out_dir, epochs=None, limit=None):
    """The `deepedge train` command line that reproduces a training run (for cards)."""
    command = f"deepedge train {name}"
    if Path(out_dir).resolve() != (saved_models_dir() / name).resolve():
        command += f" --out {out_dir}"
    if epochs:
        command += f" --epochs {epochs}"
    if limit:
        command += f" --limit {limit}"
    return command


def resolve_recipe(trained, name, epochs, out_dir, checkpoint_dir):
    """`(spec, recipe, out_dir, checkpoint_dir)` for the trained preset `name` of a family's table."""
    if name not in trained:
        raise PresetNotFoundError(f"No training recipe for {name!r}. Expected one of {sorted(trained)}.")
    spec = trained[name]
    recipe = dict(spec["recipe"])
    if epochs is not None:
        recipe["epochs"] = int(epochs)
    out_dir = Path(out_dir)
    if not checkpoint_dir:
        # Under the user cache, not beside the model: a run cut off (even with its working copy)
        # resumes from there; the finished model removes them.
        import hashlib

        from deepedge.data.cache import cache_dir

        where = hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:8]  # one run per output folder
        checkpoint_dir = cache_dir() / "runs" / f"{name}-{where}"
    return spec, recipe, out_dir, Path(checkpoint_dir)
