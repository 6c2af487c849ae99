"""Quantization-aware fine-tuning of a trained Q-network: `deepedge train dqn_cartpole --quantization-aware`.

A Q-network acts on the largest of its action values, so wherever two values are close an int8
rounding swaps them and the agent does something else: post-training int8 of the shipped
CartPole network scores 490.63 where the float network scores 500 on the same 100 held-out
episodes, and the same network distilled for three epochs in float (below, without QAT) scores
464.29 in int8. QAT fine-tunes the network as its int8 export will compute
(`deepedge.training.qat`): by distillation, the fake-quantizing network learns to give the
float network's own action values on states met while the float network plays other episodes
than the scored and the calibration ones, a little exploratory. No environment reward is
needed, and the rounding is learned around rather than suffered.
"""

import time
from pathlib import Path

from deepedge.apps.agents.dqn_presets import TRAINED


def fine_tune_quantization_aware(name, out_dir, epochs=None, verbose=True):
    """Fine-tunes the trained `out_dir/model.keras` of the DQN recipe `name` quantization-aware,
    by its `quantization_aware` settings (episodes, epsilon and seed of the play that gives the
    states, how many states, epochs, rate, batch). Saves the fine-tuned float weights over
    `model.keras`, the ranges beside it (`deepedge.training.qat_files`), and a
    `quantization_aware` record in `training.json`.

    Returns:
        `(model, record)`: the quantization-aware Q-network and what `training.json` records.
    """
    from deepedge.apps.agents.environments import Episodes, collect_states
    from deepedge.apps.agents.q_network import QNetwork
    from deepedge.backend import keras
    from deepedge.presets import train_command
    from deepedge.training import seed_everything
    from deepedge.training.qat_files import (check_fine_tunable, fine_tuning_command, fine_tuning_settings,
                                             save_quantization_aware)

    settings = fine_tuning_settings(TRAINED, name)
    out_dir = Path(out_dir)
    path = out_dir / "model.keras"
    check_fine_tunable(path, train_command(name, out_dir))
    epochs = epochs or settings["epochs"]
    model = QNetwork.load(path)
    seed_everything(settings["seed"], deterministic=False)
    play = Episodes(model.environment, episodes=settings["episodes"], seed=settings["seed"],
                    epsilon=settings["epsilon"], split="train")
    started = time.perf_counter()
    states = collect_states(model.greedy_action, play, model.frame_stack, count=settings["states"])
    targets = model.q_values(states)  # the float network's own values: the teacher
    model.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"]), loss="mse")
    history = model.fit(states, targets, batch_size=settings["batch_size"], epochs=epochs, quantization_aware=True,
                        qat_calibration=states[:500], verbose=2 if verbose else 0)
    agree = float((model.q_values(states).argmax(1) == targets.argmax(1)).mean())
    float_layers = list(model.edge_float_layers)  # the action values stay float32, as in every export
    record = {"epochs": epochs, "learning_rate": settings["learning_rate"], "float_layers": float_layers,
              "method": "distillation of the float network's action values",
              "states": int(len(states)), "episodes": play.episodes, "seed": play.seed, "epsilon": play.epsilon,
              "training_seconds": round(time.perf_counter() - started, 1),
              "greedy_agreement_fake_quant": round(agree, 4),
              "loss": [round(float(v), 6) for v in history.history["loss"]],
              "command": fine_tuning_command(name, out_dir, epochs, settings["epochs"])}

    save_quantization_aware(model, path, float_layers, record, lambda network, target: network.save(target))
    return QNetwork.load(path), record


__all__ = ["fine_tune_quantization_aware"]
