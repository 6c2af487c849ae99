"""Deep Q-networks as the tools see it: games instead of data sets, the mean return over
fixed-seed episodes as the metric, training by recipe (resumable), GIFs of games played on device."""

import hashlib
from pathlib import Path

import numpy as np

from deepedge.apps.agents.dqn_presets import ARCHITECTURES, TRAINED
from deepedge.apps.agents.environments import random_policy_return
from deepedge.apps.family import Family
from deepedge.errors import InvalidInputError

# How the shipped games are scored: the recipes' evaluation settings, per environment.
EVALUATIONS = {spec["environment"]: spec["evaluation"] for spec in TRAINED.values()}
DEFAULT_EVALUATION = {"episodes": 100, "seed": 10_000, "epsilon": 0.05}
# Calibration plays other episodes than the scored ones (another seed), a little exploratory.
CALIBRATION = {"episodes": 50, "seed": 1_000, "epsilon": 0.05}
SOURCES = {
    "CartPole-v1": ("gymnasium's classic control CartPole-v1 (Barto, Sutton and Anderson 1983)", "MIT (gymnasium)"),
    "MinAtar": ("MinAtar (Young and Tian 2019), PyPI `minatar`", "GPL-3.0 (MinAtar)"),
    "ALE": ("the Arcade Learning Environment, PyPI `ale-py` with the ROMs in its wheel", "GPL-2.0 (ale-py)"),
}


def _source(environment):
    return SOURCES.get(environment) or SOURCES.get(environment.split("/")[0]) or (f"gymnasium {environment}", "-")


class QLearning(Family):
    family = "agents"
    task_name = "q_learning"
    title = "Deep Q-networks"
    keras_classes = ("QNetwork",)
    data_names = tuple(EVALUATIONS)
    unit = "fixed-seed episodes"
    demo_name = "agents"
    default_model = "dqn_cartpole"
    shipped = ("dqn_cartpole", "dqn_minatar_breakout", "dqn_pong")
    task_class = "deepedge.apps.agents.q_network:QNetwork"
    architectures = ARCHITECTURES
    recipes = TRAINED

    def data_name(self, path, data=None):
        """The environment the model plays (its `model.json`, or the `.keras` file's config)."""
        from deepedge.apps.family import is_exported, keras_path

        if is_exported(path):
            from deepedge.runtime.metadata import read_metadata, resolve_model_paths

            recorded = read_metadata(resolve_model_paths(path)[1]).get("environment")
        else:
            recorded = self.load_keras(keras_path(path)).environment
        if data is not None and data != recorded:
            raise InvalidInputError(f"This Q-network plays {recorded}; it cannot be scored on another game. "
                                    f"Received: --data {data!r}.")
        if recorded is None:
            raise InvalidInputError(f"The Q-network at {path} does not record its environment; build it with "
                                    "QNetwork(..., environment=...) or train it with `deepedge train`.")
        return recorded

    def load_data(self, name, split):
        """The fixed-seed `Episodes` of the environment `name`: "test" scores, "train" calibrates."""
        from deepedge.apps.agents.environments import Episodes

        settings = CALIBRATION if split == "train" else EVALUATIONS.get(name, DEFAULT_EVALUATION)
        return Episodes(name, split=split, **settings)

    def evaluate(self, path, data_name, split="test", limit=None, beam_width=None):
        model, kind = self.open_model(path)
        environment = self.data_name(path, data_name)
        episodes = self.load_data(environment, split)
        if limit:
            episodes = episodes.take(limit)
        value = model.evaluate_metric(episodes)
        return {"model": str(path), "kind": kind, "data": environment, "split": split, "examples": episodes.episodes,
                "metric": "mean_return", "value": round(value, 4), "seed": episodes.seed, "epsilon": episodes.epsilon,
                "random_policy_mean_return": round(random_policy_return(episodes), 4)}

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None, budgets=None):
        model = self.load_keras(model_path)
        environment = self.data_name(model_path, data_name)
        calibration, test = self.load_data(environment, "train"), self.load_data(environment, "test")
        source, licence = _source(environment)
        evaluation = {"episodes": test.episodes, "seed": test.seed, "epsilon": test.epsilon,
                      "random_policy_mean_return": round(random_policy_return(test), 4)}
        data_info = {"name": environment, "source": source, "licence": licence, "test_examples": test.episodes,
                     "evaluation": evaluation}
        command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
        return model.export(out, quantization=quantization, **(budgets or {}), calibration_data=calibration, evaluation_data=test,
                            force=force, num_calibration=calibration_samples or 500,
                            extra_metadata={"data": environment,
                                            "evaluation": data_info["evaluation"]},
                            card=self.card_info(data_info, command))

    def export_summary(self, meta, out, quantization):
        metrics = meta["metrics"]
        return (f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, mean return float "
                f"{metrics['keras_float']:.2f} vs {quantization} {metrics[f'litert_{quantization}']:.2f} over "
                f"{metrics['examples']} episodes, median {meta['latency_us']['median']:.1f} us a step")

    def card_sections(self, card):
        evaluation = (card.get("data") or {}).get("evaluation")
        if not evaluation:
            return []
        return ["", "## How it is scored", "",
                f"The mean undiscounted return over {evaluation['episodes']} episodes whose starts are fixed by the seed "
                f"{evaluation['seed']}, with a random action at each step with probability {evaluation['epsilon']}; "
                "the float and the exported network play the same episodes (`deepedge evaluate MODEL`). "
                "`deepedge play MODEL` draws one of them."] + (
            [f"A uniformly random policy scores {evaluation['random_policy_mean_return']:.2f} on the same episodes."]
            if "random_policy_mean_return" in evaluation else [])

    def commands(self):
        from deepedge.apps.agents.commands import command

        return [command]

    def play(self, runtime, out, image_path=None, index=0):
        """Plays the held-out episode `index` on device; writes its GIF to `out`."""
        from deepedge.apps.agents.play import play_game

        if image_path:
            raise InvalidInputError("--image is for glimpse agents; a Q-network plays its game "
                                    f"({runtime.environment}). Choose an episode with --index.")
        evaluation = runtime.metadata.get("evaluation") or DEFAULT_EVALUATION
        played = play_game(runtime, out, seed=evaluation["seed"], episode=index, epsilon=evaluation["epsilon"])
        return (f"{runtime.environment}, held-out episode {index}: return {played['return']:g} in "
                f"{played['steps']} steps. Wrote {out}")

    quantization_aware_training = True  # `deepedge train dqn_cartpole --quantization-aware` (deepedge.apps.agents.dqn_qat)

    def train(self, preset, out, epochs=None, limit=None, distribution=None, quantization_aware=False):
        """Trains the recipe `preset` (resuming from its checkpoint under the user cache) and
        writes `model.keras` (the online Q-network) and `training.json` into `out`. `limit`
        caps the agent steps (a short run); `epochs` does not apply. It plays and learns on one
        device: `distribution` may only be the default strategy. With `quantization_aware`, it
        fine-tunes the trained `out/model.keras` instead, for `epochs` (the recipe's by default)."""
        if quantization_aware:
            from deepedge.apps.agents.dqn_qat import fine_tune_quantization_aware

            _, record = fine_tune_quantization_aware(preset, out, epochs=epochs)
            return (f"Fine-tuned {preset} quantization-aware on {record['states']:,} states: the fake-quant network "
                    f"picks the float network's action on {100 * record['greedy_agreement_fake_quant']:.2f}% of them, "
                    f"{record['training_seconds']:.0f} s. Saved {out / 'model.keras'} and its ranges; "
                    "`deepedge export` converts with them.")
        from deepedge.apps.agents.dqn_training import train_preset
        from deepedge.data.cache import cache_dir
        from deepedge.fileio import atomic_write_json
        from deepedge.presets import saved_models_dir, train_command
        from deepedge.training.compact import save_keras
        from deepedge.training.distribute import Distribution

        distribution = distribution or Distribution()
        distribution.check_supported("The deep Q-network's replay loop", ("default",))
        if epochs is not None:
            raise InvalidInputError("A deep Q-network trains for a number of steps of play, not epochs; "
                                    f"pass --limit STEPS for a shorter run. Received: --epochs {epochs}.")
        out = Path(out)
        checkpoint_dir = cache_dir() / "runs" / preset
        if out.resolve() != (saved_models_dir() / preset).resolve():  # one run per output folder
            checkpoint_dir = checkpoint_dir.with_name(f"{preset}-{hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:8]}")
        agent, history = train_preset(preset, checkpoint_dir, steps=limit)
        out.mkdir(parents=True, exist_ok=True)
        # a large network ships float16 weights
        save_keras(agent.online, out / "model.keras", TRAINED[preset].get("half_precision", False))
        recipe = dict(TRAINED[preset]["recipe"], **({"steps": int(limit)} if limit else {}))
        returns = history["episode_returns"]
        recent = float(np.mean(returns[-100:])) if returns else float("nan")
        atomic_write_json(out / "training.json", {
            "command": train_command(preset, out, limit=limit), "recipe": recipe, "agent": TRAINED[preset]["agent"],
            "environment": TRAINED[preset]["environment"], "steps": recipe["steps"], "episodes": len(returns),
            "training_seconds": history["train_seconds"], "metric": "mean_return_last_100_training_episodes",
            "validation_metric": round(recent, 4), "checkpoints": history["checkpoints"],
            # (the agent's own update step, compiled with XLA or not by its network, in the networks' precision)
            "distribution": {**distribution.record(agent.online, {**recipe, "learning_rate": agent.learning_rate}),
                             "jit_compile": agent.jit_compile}})
        return (f"Trained {preset}: {recipe['steps']:,} steps, {len(returns):,} episodes, mean return of the last 100 "
                f"{recent:.2f} in {history['train_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")

    def demo(self, out, limit=None, console=None):
        from deepedge.apps.agents.demo import run_dqn_demo

        return run_dqn_demo(self, out, limit=limit, console=console)

    def describe(self):
        return f"{self.title}: task {self.task_name}, games {', '.join(self.data_names)}"

