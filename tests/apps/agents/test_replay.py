"""ReplayBuffer and FrameStack: stacks that stop at episode starts, the capacity wrap, transitions
sampled only where the next observation is stored, and the `.npz` round trip."""

import numpy as np
import pytest

from deepedge.apps.agents.replay import FrameStack, ReplayBuffer, stacked_shape
from deepedge.errors import CheckpointError, InvalidInputError


def frame(value):
    return np.full((2, 2), value, np.uint8)


def two_episodes(frame_stack=3):
    """Episode A: frames 1, 2, 3 (terminal on reaching 3); episode B: frames 10, 11 (going on).
    Slots: 0:1  1:2  2:3  3:10  4:11."""
    replay = ReplayBuffer(16, (2, 2), "uint8", frame_stack=frame_stack)
    replay.start(frame(1))
    replay.add(0, 1.0, False, frame(2))
    replay.add(1, 2.0, True, frame(3))
    replay.start(frame(10))
    replay.add(2, 3.0, False, frame(11))
    return replay


def stack_values(states):
    """The value of each frame in each stacked state: (batch, k)."""
    return states[:, 0, 0, :]


def test_stacks_stop_at_the_start_of_their_episode():
    replay = two_episodes()
    np.testing.assert_array_equal(stack_values(replay.stacked(np.arange(5))),
                                  [[0, 0, 1], [0, 1, 2], [1, 2, 3], [0, 0, 10], [0, 10, 11]])


def test_samples_only_transitions_within_an_episode():
    replay = two_episodes()
    states, actions, rewards, next_states, terminals = replay.sample(200, np.random.default_rng(0))
    pairs = {(tuple(s), tuple(n), int(a), float(r), float(t))
             for s, n, a, r, t in zip(stack_values(states), stack_values(next_states), actions, rewards, terminals)}
    # slot 2 (the last frame of A) and slot 4 (the newest) have no next observation to learn from
    assert pairs == {((0, 0, 1), (0, 1, 2), 0, 1.0, 0.0), ((0, 1, 2), (1, 2, 3), 1, 2.0, 1.0),
                     ((0, 0, 10), (0, 10, 11), 2, 3.0, 0.0)}
    assert states.dtype == np.uint8 and states.shape == (200, 2, 2, 3)


def test_capacity_wrap_keeps_the_newest_and_never_stacks_overwritten_slots():
    replay = ReplayBuffer(4, (1,), "float32", frame_stack=2)
    replay.start(np.array([0.0], np.float32))
    for value in range(1, 10):
        replay.add(value, float(value), False, np.array([value], np.float32))
    assert len(replay) == 4 and replay.cursor == 2
    np.testing.assert_array_equal(np.sort(replay.observations[:, 0]), [6, 7, 8, 9])
    oldest = replay.cursor
    np.testing.assert_array_equal(replay.stacked(np.array([oldest])), [[0, 6]])  # 5 is gone: a zero
    states, actions, _, next_states, _ = replay.sample(100, np.random.default_rng(1))
    assert {(tuple(s), int(a), tuple(n)) for s, a, n in zip(states, actions, next_states)} == {
        ((0, 6), 7, (6, 7)), ((6, 7), 8, (7, 8)), ((7, 8), 9, (8, 9))}


def test_frame_stack_builds_the_states_the_buffer_samples():
    replay = two_episodes(frame_stack=4)
    stack = FrameStack(4, (2, 2), "uint8")
    acted = [stack.reset(frame(1)), stack.push(frame(2)), stack.push(frame(3)), stack.reset(frame(10)),
             stack.push(frame(11))]
    np.testing.assert_array_equal(np.stack(acted), replay.stacked(np.arange(5)))
    assert stacked_shape((84, 84), 4) == (84, 84, 4)
    assert stacked_shape((10, 10, 4), 2) == (10, 10, 8)
    assert stacked_shape((4,), 3) == (12,)


@pytest.mark.parametrize("full", [False, True])
def test_save_load_round_trip(tmp_path, full):
    replay = ReplayBuffer(8, (3, 3, 2), "uint8", frame_stack=2)
    rng = np.random.default_rng(3)
    replay.start(rng.integers(0, 2, (3, 3, 2)))
    for step in range(12 if full else 5):
        replay.add(step % 3, rng.normal(), step % 4 == 3, rng.integers(0, 2, (3, 3, 2)))
    replay.save(tmp_path / "replay.npz")
    loaded = ReplayBuffer.load(tmp_path / "replay.npz")
    for name, array in replay.as_arrays().items():
        np.testing.assert_array_equal(loaded.as_arrays()[name], array, err_msg=name)
    for a, b in zip(replay.sample(16, np.random.default_rng(9)), loaded.sample(16, np.random.default_rng(9))):
        np.testing.assert_array_equal(a, b)
    assert [p.name for p in tmp_path.iterdir()] == ["replay.npz"]


def test_an_interrupted_save_leaves_the_previous_file(tmp_path, monkeypatch):
    replay = two_episodes()
    replay.save(tmp_path / "replay.npz")
    before = (tmp_path / "replay.npz").read_bytes()
    replay.add(3, 4.0, False, frame(12))

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        replay.save(tmp_path / "replay.npz")
    assert (tmp_path / "replay.npz").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["replay.npz"]


def test_clear_errors(tmp_path):
    replay = ReplayBuffer(4, (2, 2), "uint8")
    with pytest.raises(InvalidInputError, match="Call `start"):
        replay.add(0, 0.0, False, frame(1))
    with pytest.raises(InvalidInputError, match="too few transitions"):
        replay.sample(4, np.random.default_rng(0))
    replay.start(frame(1))
    with pytest.raises(InvalidInputError, match=r"shape \(2, 2\).*Received: an observation of shape \(3,\)"):
        replay.add(0, 0.0, False, np.zeros(3, np.uint8))
    with pytest.raises(InvalidInputError, match="observation_dtype"):
        ReplayBuffer(4, (2,), "float64")
    with pytest.raises(InvalidInputError, match="capacity"):
        ReplayBuffer(1, (2,), "float32")
    (tmp_path / "other.npz").write_bytes(b"not a buffer")
    with pytest.raises(CheckpointError, match="not a readable replay buffer"):
        ReplayBuffer.load(tmp_path / "other.npz")
