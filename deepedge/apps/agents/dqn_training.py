"""The deep Q-network training loop: plays an environment, learns from a replay buffer, and
survives being killed.

`train` plays an environment for a number of steps, storing experience in a `ReplayBuffer`
and learning from uniform samples of it; every `checkpoint_every` steps, at the end of an
episode, it replaces a checkpoint of everything the run depends on (both networks, the
optimizer, the replay buffer, the random generator's state, the step counter and the
episode statistics), so a run that is killed and started again continues where the
checkpoint left it and plays on exactly as a run that never stopped.
"""

import contextlib
import json
import os
import time
from pathlib import Path

import numpy as np

from deepedge.apps.agents.dqn import DQNAgent
from deepedge.apps.agents.environments import action_names, episode_seed, make_environment
from deepedge.apps.agents.replay import FrameStack, ReplayBuffer
from deepedge.backend import keras
from deepedge.errors import CheckpointError, PresetNotFoundError
from deepedge.fileio import atomic_path, atomic_write_json
from deepedge.progress import progress_bar

STATE_FILE = "state.json"

def _load_checkpoint(checkpoint_dir, run_config):
    path = checkpoint_dir / STATE_FILE
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    if state.get("run_config") != run_config:
        raise CheckpointError(f"The checkpoint in {checkpoint_dir} was made by a different run. It has "
                              f"{state.get('run_config')}; this run is {run_config}. Use another checkpoint "
                              "folder, or delete this one to start over.")
    return state


def _save_checkpoint(checkpoint_dir, agent, replay, rng, progress, run_config):
    """Writes the agent's and the buffer's files under names of their step, then `state.json`
    (the commit point: it names them), then removes older files. A kill at any moment leaves
    a `state.json` whose files are all there."""
    step = progress["step"]
    agent_file, replay_file = f"agent_{step:09d}.npz", f"replay_{step:09d}.npz"
    with atomic_path(checkpoint_dir / agent_file) as tmp, open(tmp, "wb") as f:
        np.savez(f, **agent.training_state())
        f.flush()
        os.fsync(f.fileno())
    replay.save(checkpoint_dir / replay_file)
    atomic_write_json(checkpoint_dir / STATE_FILE, {**progress, "agent_file": agent_file, "replay_file": replay_file,
                                                    "rng": rng.bit_generator.state, "run_config": run_config})
    for old in [*checkpoint_dir.glob("agent_*.npz"), *checkpoint_dir.glob("replay_*.npz")]:
        if old.name not in (agent_file, replay_file):
            old.unlink()


def _mean_recent(values, count=100):
    return float(np.mean(values[-count:])) if values else float("nan")


def train(env_name, steps, checkpoint_dir, agent=None, replay_capacity=100_000, batch_size=32, learning_starts=1_000,
          train_every=1, checkpoint_every=10_000, clip_rewards=False, terminal_on_life_loss=False, seed=0,
          verbose=True, on_episode_end=None):
    """Trains a `DQNAgent` on `env_name` for `steps` steps, resuming from `checkpoint_dir`.

    Each step acts epsilon-greedily (uniformly at random before `learning_starts`), stores
    the transition, and every `train_every` steps (once learning started) fits a batch
    sampled uniformly from the replay buffer. Episode `i` starts from the seed
    `episode_seed(seed, i)`. The checkpoint is replaced at the first episode end after every
    `checkpoint_every` steps and at the last step; a rerun with the same arguments resumes
    from it (a larger `steps` extends a finished run). Resuming restores everything the run
    depends on, so a run killed after a checkpoint plays on from it exactly as a straight run
    would have; the steps after the checkpoint are played again.

    Args:
        env_name: str. See `make_environment`.
        steps: int. Agent steps of the whole run (an Atari step is 4 frames).
        checkpoint_dir: folder for `state.json`, `agent_<step>.npz` and `replay_<step>.npz`.
        agent: dict. `DQNAgent` arguments besides the observation spec and the number of
            actions (which come from the environment). Defaults to `None` (the defaults).
        replay_capacity: int. Observations the replay buffer keeps. Defaults to `100_000`.
        batch_size: int. Defaults to `32`.
        learning_starts: int. Random steps that fill the buffer before learning. Defaults to `1_000`.
        train_every: int. Steps per gradient update. Defaults to `1`.
        checkpoint_every: int. Defaults to `10_000`.
        clip_rewards: bool. Learn from the sign of each reward (the Nature DQN's clipping to
            [-1, 1] for Atari); the recorded returns stay unclipped. Defaults to `False`.
        terminal_on_life_loss: bool. Treat the loss of a life as terminal in the targets (the
            Nature DQN, for Atari) while the game goes on. Defaults to `False`.
        seed: int. Seeds the initial weights, the exploration, the sampling and the episodes.
            Defaults to `0`.
        verbose: bool. A progress bar and a line per checkpoint, on stderr. Defaults to `True`.
        on_episode_end: callable `(episode, stats)` called after each episode, with `stats`
            `{"return", "length", "step"}`; or None.

    Returns:
        `(agent, history)`: the trained `DQNAgent` and a dict with per-episode lists
        (`episode_returns`, `episode_lengths`, `episode_end_steps`), a list of `checkpoints`
        (step, episodes, mean return of the last 100 episodes, mean loss, epsilon, steps per
        second) and `train_seconds`, the wall time (summed over resumes).
    """
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    agent_config = dict(agent or {})
    run_config = json.loads(json.dumps({
        "env_name": env_name, "agent": agent_config, "replay_capacity": int(replay_capacity),
        "batch_size": int(batch_size), "learning_starts": int(learning_starts), "train_every": int(train_every),
        "clip_rewards": bool(clip_rewards), "terminal_on_life_loss": bool(terminal_on_life_loss), "seed": int(seed)}))
    env = make_environment(env_name)
    space = env.observation_space
    keras.utils.set_random_seed(seed)
    dqn = DQNAgent(space.shape, int(env.action_space.n), space.dtype.name,
                   **{"environment": env_name, "action_names": action_names(env), **agent_config})
    rng = np.random.default_rng([int(seed), 1])
    saved = _load_checkpoint(checkpoint_dir, run_config)
    if saved is None:
        replay = ReplayBuffer(replay_capacity, space.shape, space.dtype.name, dqn.frame_stack)
        progress = {"step": 0, "episodes_started": 0, "history": {
            "episode_returns": [], "episode_lengths": [], "episode_end_steps": [], "checkpoints": [],
            "train_seconds": 0.0}}
    else:
        with np.load(checkpoint_dir / saved["agent_file"], allow_pickle=False) as arrays:
            dqn.restore_training_state({k: arrays[k] for k in arrays.files})
        replay = ReplayBuffer.load(checkpoint_dir / saved["replay_file"])
        rng.bit_generator.state = saved["rng"]
        progress = {k: saved[k] for k in ("step", "episodes_started", "history")}
    history = progress["history"]
    stack = FrameStack(dqn.frame_stack, space.shape, space.dtype.name)
    step = progress["step"]
    if verbose and saved is not None:
        print(f"Resuming from {checkpoint_dir} at step {step}/{steps}.")
    last_checkpoint, clock, losses = step, time.perf_counter(), []
    episode_over = True
    with progress_bar() if verbose else contextlib.nullcontext() as bar:
        task = bar.add_task(f"DQN {env_name}", total=steps, completed=step) if verbose else None
        while step < steps:
            if episode_over:
                observation, info = env.reset(seed=episode_seed(seed, progress["episodes_started"]))
                progress["episodes_started"] += 1
                replay.start(observation)
                state, lives, episode_return, episode_length = stack.reset(observation), info.get("lives", 0), 0.0, 0
            learning = step >= learning_starts
            epsilon = dqn.epsilon(step - learning_starts) if learning else 1.0
            action = dqn.act(state, epsilon, rng)
            observation, reward, terminated, truncated, info = env.step(action)
            step += 1
            episode_return, episode_length = episode_return + float(reward), episode_length + 1
            life_lost = terminal_on_life_loss and info.get("lives", lives) < lives
            lives = info.get("lives", lives)
            replay.add(action, np.sign(reward) if clip_rewards else reward, terminated or life_lost, observation)
            state = stack.push(observation)
            if learning and step % train_every == 0:
                losses.append(dqn.update(replay.sample(batch_size, rng)))
            episode_over = terminated or truncated
            if episode_over:
                history["episode_returns"].append(episode_return)
                history["episode_lengths"].append(episode_length)
                history["episode_end_steps"].append(step)
                if on_episode_end is not None:
                    on_episode_end(len(history["episode_returns"]) - 1,
                                   {"return": episode_return, "length": episode_length, "step": step})
            if (episode_over and step - last_checkpoint >= checkpoint_every) or step == steps:
                seconds = time.perf_counter() - clock
                history["train_seconds"] = round(history["train_seconds"] + seconds, 2)
                history["checkpoints"].append({
                    "step": step, "episodes": len(history["episode_returns"]),
                    "mean_return_100": _mean_recent(history["episode_returns"]),
                    "loss": float(np.mean(losses)) if losses else None, "epsilon": round(epsilon, 4),
                    "steps_per_second": round((step - last_checkpoint) / seconds, 1)})
                progress["step"] = step
                _save_checkpoint(checkpoint_dir, dqn, replay, rng, progress, run_config)
                if verbose:
                    bar.console.print("  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                                for k, v in history["checkpoints"][-1].items()), highlight=False)
                last_checkpoint, clock, losses = step, time.perf_counter(), []
            if verbose and (step % 100 == 0 or episode_over):
                bar.update(task, completed=step, description=f"DQN {env_name}  return "
                           f"{_mean_recent(history['episode_returns']):.1f}  epsilon {epsilon:.2f}")
    env.close()
    return dqn, history


def train_preset(name, checkpoint_dir, steps=None, verbose=True, on_episode_end=None, environment=None, agent=None,
                 seed=None):
    """Trains the recipe `name` of `deepedge.apps.agents.dqn_presets.TRAINED` (see `train`).

    Args:
        name: str. `"dqn_cartpole"`, `"dqn_minatar_breakout"` or `"dqn_pong"`.
        checkpoint_dir: the run's checkpoint folder; rerunning resumes.
        steps: int or None. Overrides the recipe's number of steps (a short run).
        environment: str or None. Another version of the recipe's game (`"MinAtar/Breakout-v1"`).
        agent: dict or None. `DQNAgent` arguments that override the recipe's (`{"learning_rate": 1e-3}`).
        seed: int or None. Overrides the recipe's seed (another run of the same recipe).
    """
    from deepedge.apps.agents.dqn_presets import TRAINED

    if name not in TRAINED:
        raise PresetNotFoundError(f"Unknown DQN recipe. Expected one of {sorted(TRAINED)}. Received: name={name!r}")
    spec = TRAINED[name]
    recipe = dict(spec["recipe"], **({} if seed is None else {"seed": seed}))
    recipe_steps = recipe.pop("steps")
    return train(environment or spec["environment"], steps or recipe_steps, checkpoint_dir,
                 agent={**spec["agent"], **(agent or {})}, verbose=verbose, on_episode_end=on_episode_end, **recipe)


__all__ = ["STATE_FILE", "train", "train_preset"]
