"""DQNAgent and its training loop: the papers' networks, hand-computed DQN and Double DQN targets
and losses, the target network's refresh, the exploration schedule, environments and their
errors, fixed-seed evaluation, and training that resumes after an interruption or a kill."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from deepedge.apps.agents.dqn import DQNAgent, build_q_network
from deepedge.apps.agents.dqn_training import train, train_preset
from deepedge.apps.agents.environments import episode_returns, evaluate, make_environment
from deepedge.apps.agents.dqn_presets import TRAINED
from deepedge.apps.agents.replay import ReplayBuffer
from deepedge.errors import CheckpointError, DataNotFoundError, InvalidInputError, ModelFileError, PresetNotFoundError

TINY = {"hidden_units": (16, 16), "learning_rate": 1e-3, "target_update_every": 50, "epsilon_decay_steps": 200}
TINY_RUN = {"agent": TINY, "replay_capacity": 500, "batch_size": 16, "learning_starts": 50, "checkpoint_every": 100,
            "seed": 3, "verbose": False}


def linear_agent(**kwargs):
    """Q(s) = s W + b with 2 state numbers and 3 actions; online W = [[1, 3, 2], [0, 0, 0]], target
    W = [[4, 0, 5], [0, 0, 0]], both b = 0."""
    agent = DQNAgent((2,), 3, hidden_units=(), gamma=0.5, **kwargs)
    zeros = np.zeros(3, np.float32)
    agent.online.set_weights([np.array([[1, 3, 2], [0, 0, 0]], np.float32), zeros])
    agent.target.set_weights([np.array([[4, 0, 5], [0, 0, 0]], np.float32), zeros])
    return agent


# === Networks ===

def test_networks_have_the_papers_sizes():
    nature = build_q_network((84, 84, 4), 6, "nature")
    assert tuple(nature.get_layer("conv_3").output.shape[1:]) == (7, 7, 64)
    # 8,224 + 32,832 + 36,928 conv weights, 3136 x 512 + 512 dense, 512 x 6 + 6 out
    assert nature.count_params() == 1_687_206
    minatar = build_q_network((10, 10, 4), 3, "minatar")
    assert tuple(minatar.get_layer("conv").output.shape[1:]) == (8, 8, 16)
    assert minatar.count_params() == 592 + 131_200 + 387
    assert build_q_network((4,), 2, "mlp", (128, 128)).count_params() == 640 + 16_512 + 258
    with pytest.raises(InvalidInputError, match="rank 3.*Received: input_shape=\\(4,\\)"):
        build_q_network((4,), 2, "nature")


def test_the_nature_network_scales_bytes_inside_the_model():
    network = build_q_network((84, 84, 4), 2, "nature")
    assert network.get_layer("scale").scale == pytest.approx(1 / 255)


# === Targets, losses, target network ===

def test_dqn_and_double_dqn_targets_by_hand():
    rewards, terminals = [1.0, -1.0], [0.0, 1.0]
    next_states = np.array([[1, 0], [2, 0]], np.float32)
    # next state [1, 0]: online Q = [1, 3, 2] picks action 1; target Q = [4, 0, 5].
    # DQN: 1 + 0.5 * max(4, 0, 5) = 3.5. Double DQN: 1 + 0.5 * target Q[1] = 1.0. Terminal: the reward alone.
    np.testing.assert_allclose(linear_agent(double=False).td_targets(rewards, next_states, terminals), [3.5, -1.0])
    np.testing.assert_allclose(linear_agent(double=True).td_targets(rewards, next_states, terminals), [1.0, -1.0])


@pytest.mark.parametrize("loss", ["huber", "mse"])
def test_the_loss_of_a_batch_by_hand(loss):
    agent = linear_agent(double=False, loss=loss)
    # states [1, 0] (Q = [1, 3, 2]) with actions 0 and 1; targets 1 + 0.5 * 5 * (not terminal): 3.5 and 3.5.
    # TD errors 2.5 and 0.5 -> Huber (2.5 - 0.5) and 0.5 * 0.5^2; squared 6.25 and 0.25.
    states = np.array([[1, 0], [1, 0]], np.float32)
    batch = (states, np.array([0, 1], np.int32), np.ones(2, np.float32), states, np.zeros(2, np.float32))
    expected = {"huber": (2.0 + 0.125) / 2, "mse": (6.25 + 0.25) / 2}[loss]
    assert agent.update(batch) == pytest.approx(expected)


def test_updates_fit_the_online_network_to_the_targets():
    # Two transitions per action: a linear Q (3 numbers per action) can fit their targets exactly.
    agent = linear_agent(double=False, learning_rate=0.05, target_update_every=10_000)
    rng = np.random.default_rng(0)
    states, next_states = rng.normal(size=(6, 2)).astype(np.float32), rng.normal(size=(6, 2)).astype(np.float32)
    actions = np.array([0, 0, 1, 1, 2, 2], np.int32)
    batch = (states, actions, rng.normal(size=6).astype(np.float32), next_states, np.zeros(6, np.float32))
    targets = agent.td_targets(batch[2], next_states, batch[4])
    before = np.abs(agent.q_values(states)[np.arange(6), actions] - targets)
    for _ in range(500):
        agent.update(batch)
    after = np.abs(agent.q_values(states)[np.arange(6), actions] - targets)
    assert after.max() < 0.05 < before.min(), (before, after)


def test_target_network_is_refreshed_every_n_updates():
    agent = DQNAgent((4,), 2, hidden_units=(8,), target_update_every=3)
    initial = agent.target.get_weights()
    rng = np.random.default_rng(0)
    batch = (rng.normal(size=(8, 4)).astype(np.float32), rng.integers(0, 2, 8).astype(np.int32),
             np.ones(8, np.float32), rng.normal(size=(8, 4)).astype(np.float32), np.zeros(8, np.float32))
    for _ in range(2):
        agent.update(batch)
        for target, start, online in zip(agent.target.get_weights(), initial, agent.online.get_weights()):
            np.testing.assert_array_equal(target, start)
        assert any(not np.array_equal(o, t) for o, t in zip(agent.online.get_weights(), agent.target.get_weights()))
    agent.update(batch)
    for online, target in zip(agent.online.get_weights(), agent.target.get_weights()):
        np.testing.assert_array_equal(online, target)


# === Acting ===

def test_epsilon_falls_linearly_then_stays():
    agent = DQNAgent((4,), 2, epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_steps=100)
    assert [agent.epsilon(s) for s in (-5, 0, 50, 100, 10_000)] == pytest.approx([1.0, 1.0, 0.55, 0.1, 0.1])


def test_act_is_greedy_at_epsilon_zero_and_uniform_at_one():
    agent = linear_agent()
    state = np.array([1, 0], np.float32)
    rng = np.random.default_rng(0)
    assert agent(state) == 1 and {agent.act(state, 0.0, rng) for _ in range(20)} == {1}
    counts = np.bincount([agent.act(state, 1.0, rng) for _ in range(3000)], minlength=3)
    assert np.all(np.abs(counts / 3000 - 1 / 3) < 0.04), counts


def test_save_and_load_round_trip(tmp_path):
    agent = DQNAgent((10, 10, 4), 3, "uint8", network="minatar", optimizer="rmsprop", learning_rate=2.5e-4)
    agent.save(tmp_path / "agent")
    loaded = DQNAgent.load(tmp_path / "agent")
    assert loaded.get_config() == agent.get_config()
    states = np.random.default_rng(0).integers(0, 2, (5, 10, 10, 4)).astype(np.uint8)
    np.testing.assert_allclose(loaded.q_values(states), agent.q_values(states), rtol=1e-6)
    np.testing.assert_allclose(loaded.target(states.astype(np.float32)), agent.q_values(states), rtol=1e-6)
    with pytest.raises(ModelFileError, match="agent.json"):
        DQNAgent.load(tmp_path / "missing")


def test_invalid_arguments_are_refused():
    with pytest.raises(InvalidInputError, match="Received: loss='l1'"):
        DQNAgent((4,), 2, loss="l1")
    with pytest.raises(InvalidInputError, match="Received: optimizer='sgd'"):
        DQNAgent((4,), 2, optimizer="sgd")
    with pytest.raises(PresetNotFoundError, match="dqn_cartpole"):
        train_preset("dqn_tetris", "unused")


# === Environments ===

def test_environments_observe_what_their_networks_read():
    cartpole = make_environment("CartPole-v1", seed=0)
    observation, _ = cartpole.reset(seed=0)
    assert observation.shape == (4,) and observation.dtype == np.float32 and cartpole.action_space.n == 2
    breakout = make_environment("MinAtar/Breakout-v1", seed=0)
    planes, _ = breakout.reset(seed=0)
    assert planes.shape == (10, 10, 4) and planes.dtype == np.uint8 and set(np.unique(planes)) <= {0, 1}
    assert planes.sum() > 0 and breakout.action_space.n == 3
    pong = make_environment("ALE/Pong-v5", seed=0)
    screen, _ = pong.reset(seed=0)
    assert screen.shape == (84, 84) and screen.dtype == np.uint8 and pong.action_space.n == 6
    assert pong.unwrapped._frameskip == 1 and pong.unwrapped.ale.getFloat("repeat_action_probability") == 0


def test_environment_errors_say_what_to_do(monkeypatch):
    with pytest.raises(InvalidInputError, match="No gymnasium environment 'CartPole-v9'.*CartPole-v1"):
        make_environment("CartPole-v9")
    with pytest.raises(InvalidInputError, match="discrete actions"):
        make_environment("Pendulum-v1")
    monkeypatch.setitem(sys.modules, "minatar", None)
    with pytest.raises(DataNotFoundError, match=r"`minatar`.*pip install 'minatar==.*deepedge\[agents\]"):
        make_environment("MinAtar/Breakout-v1")
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    with pytest.raises(DataNotFoundError, match="pip install 'gymnasium=="):
        make_environment("CartPole-v1")


def test_evaluate_scores_a_numpy_policy_on_fixed_episodes():
    def lean_back(state):  # push the cart toward where the pole leans and turns
        return int(state[2] + state[3] > 0)

    returns = episode_returns(lean_back, "CartPole-v1", episodes=5, seed=7, epsilon=0.0)
    np.testing.assert_array_equal(returns, episode_returns(lean_back, "CartPole-v1", episodes=5, seed=7, epsilon=0.0))
    random_policy = evaluate(lambda state: 0, "CartPole-v1", episodes=5, seed=7, epsilon=1.0)
    assert returns.mean() > 150 > 4 * random_policy
    assert evaluate(lean_back, "CartPole-v1", episodes=5, seed=7, epsilon=0.05) > 2 * random_policy


# === Training and resuming ===

class Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_to_the_same_step_buffer_and_weights(tmp_path):
    straight, history = train("CartPole-v1", 300, tmp_path / "straight", **TINY_RUN)

    def interrupt(episode, stats):
        if stats["step"] > 220:
            raise Interrupted

    with pytest.raises(Interrupted):
        train("CartPole-v1", 300, tmp_path / "resumed", on_episode_end=interrupt, **TINY_RUN)
    state = json.loads((tmp_path / "resumed" / "state.json").read_text())
    assert 100 <= state["step"] <= 220
    resumed, resumed_history = train("CartPole-v1", 300, tmp_path / "resumed", **TINY_RUN)
    assert resumed_history["checkpoints"][-1]["step"] == history["checkpoints"][-1]["step"] == 300
    assert resumed_history["episode_returns"] == history["episode_returns"]
    for name in ("straight", "resumed"):
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == [
            "agent_000000300.npz", "replay_000000300.npz", "state.json"]
    replays = [ReplayBuffer.load(tmp_path / name / "replay_000000300.npz").as_arrays()
               for name in ("straight", "resumed")]
    for key in replays[0]:
        np.testing.assert_array_equal(replays[0][key], replays[1][key], err_msg=key)
    for key, array in straight.training_state().items():
        np.testing.assert_array_equal(resumed.training_state()[key], array, err_msg=key)


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    train("CartPole-v1", 60, tmp_path, **TINY_RUN)
    with pytest.raises(CheckpointError, match="different run"):
        train("CartPole-v1", 60, tmp_path, **{**TINY_RUN, "batch_size": 8})


KILLED_RUN = textwrap.dedent("""
    import os, signal
    from deepedge.apps.agents.dqn_training import train

    def maybe_die(episode, stats):
        if {kill_after} is not None and stats["step"] > {kill_after}:
            os.kill(os.getpid(), signal.SIGKILL)

    train("MinAtar/Breakout-v1", 400, {folder!r}, agent={{"network": "minatar", "optimizer": "rmsprop",
          "learning_rate": 2.5e-4, "double": False, "target_update_every": 100, "epsilon_decay_steps": 300}},
          replay_capacity=1000, batch_size=32, learning_starts=100, checkpoint_every=150, seed=5, verbose=False,
          on_episode_end=maybe_die)
""")


@pytest.mark.slow
def test_a_killed_pixel_run_resumes_where_its_checkpoint_left(tmp_path):
    def run(name, kill_after):
        script = KILLED_RUN.format(kill_after=kill_after, folder=str(tmp_path / name))
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)

    assert run("straight", None).returncode == 0
    killed = run("resumed", 250)
    assert killed.returncode == -9, killed.stderr
    state = json.loads((tmp_path / "resumed" / "state.json").read_text())
    assert 150 <= state["step"] <= 250 and len(state["history"]["episode_returns"]) >= 1
    resumed = run("resumed", None)
    assert resumed.returncode == 0, resumed.stderr
    finished = [json.loads((tmp_path / name / "state.json").read_text()) for name in ("straight", "resumed")]
    assert finished[0]["step"] == finished[1]["step"] == 400
    assert finished[0]["history"]["episode_returns"] == finished[1]["history"]["episode_returns"]
    assert finished[0]["rng"] == finished[1]["rng"]
    arrays = [np.load(tmp_path / name / "agent_000000400.npz") for name in ("straight", "resumed")]
    for key in arrays[0].files:
        np.testing.assert_array_equal(arrays[0][key], arrays[1][key], err_msg=key)


def test_presets_are_plain_data_for_train():
    import inspect

    train_arguments = set(inspect.signature(train).parameters)
    agent_arguments = set(inspect.signature(DQNAgent).parameters)
    for name, spec in TRAINED.items():
        assert set(spec["recipe"]) <= train_arguments and set(spec["agent"]) <= agent_arguments, name
    minatar = TRAINED["dqn_minatar_breakout"]
    assert minatar["recipe"]["replay_capacity"] == 100_000 and minatar["recipe"]["batch_size"] == 32
    assert minatar["agent"]["target_update_every"] == 1_000 and minatar["agent"]["epsilon_end"] == 0.1
    # as the paper's code and curves: all six actions, the sweep's best step size
    assert minatar["environment"] == "MinAtar/Breakout-v0" and minatar["agent"]["learning_rate"] == 2**-9


def test_the_family_records_how_the_agent_trained(tmp_path, monkeypatch):
    """`deepedge train dqn_...` writes into training.json the strategy, precision and XLA its
    update step ran with: XLA for the convolutional networks, not the MLP."""
    from deepedge.registry import family_of_preset

    monkeypatch.setenv("DEEPEDGE_CACHE", str(tmp_path / "cache"))
    family_of_preset("dqn_cartpole").train("dqn_cartpole", tmp_path / "out", limit=64)
    record = json.loads((tmp_path / "out" / "training.json").read_text())["distribution"]
    assert {k: record[k] for k in ("strategy", "replicas", "workers", "precision", "jit_compile")} == {
        "strategy": "default", "replicas": 1, "workers": 1, "precision": "float32", "jit_compile": False}
    assert record["global_batch_size"] == TRAINED["dqn_cartpole"]["recipe"]["batch_size"]
    assert DQNAgent((10, 10, 4), 3, "uint8", network="minatar").jit_compile
