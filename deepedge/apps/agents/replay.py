"""Experience replay for deep Q-networks: a uniform buffer in preallocated numpy arrays.

As in the Nature DQN (Mnih et al. 2015), the buffer keeps each observation once (one frame,
not the stack of the last k) and builds the stacks when a batch is sampled, so frame stacking
costs no memory. A stack never reaches back across the start of its episode: the slots before
it are zeros, exactly as `FrameStack` builds them while acting. The buffer saves to one `.npz`
file, written atomically, so a training run that is killed resumes with its experience. This
module needs numpy only.
"""

import os
from pathlib import Path

import numpy as np

from deepedge.errors import CheckpointError, InvalidInputError
from deepedge.fileio import atomic_path

OBSERVATION_DTYPES = ("uint8", "float32")
_SAMPLING_ROUNDS = 100


def stacked_shape(observation_shape, frame_stack):
    """The shape of `frame_stack` stacked observations: frames `(H, W)` stack into channels
    `(H, W, k)`, planes `(H, W, C)` into `(H, W, C * k)`, vectors `(n,)` into `(n * k,)`."""
    observation_shape = tuple(observation_shape)
    if len(observation_shape) == 2:
        return (*observation_shape, frame_stack)
    return (*observation_shape[:-1], observation_shape[-1] * frame_stack)


def _stack(frames, observation_ndim):
    """Stacks a list of observations (oldest first, each with or without a batch axis)."""
    if observation_ndim == 2:
        return np.stack(frames, axis=-1)
    return np.concatenate(frames, axis=-1)


def _check_observation_spec(observation_shape, observation_dtype, frame_stack):
    if not observation_shape or len(observation_shape) > 3 or min(observation_shape) < 1:
        raise InvalidInputError("An observation must be a vector (n,), a frame (H, W) or planes (H, W, C). "
                                f"Received: observation_shape={observation_shape!r}")
    if observation_dtype not in OBSERVATION_DTYPES:
        raise InvalidInputError(f"observation_dtype must be one of {OBSERVATION_DTYPES} (uint8 for pixels, "
                                f"float32 for state vectors). Received: observation_dtype={observation_dtype!r}")
    if int(frame_stack) < 1:
        raise InvalidInputError(f"frame_stack must be at least 1. Received: frame_stack={frame_stack!r}")


class FrameStack:
    """The last `frame_stack` observations of the current episode, stacked for the Q-network.

    It builds the stacks the replay buffer samples: at the start of an episode the older
    slots are zeros.

    Args:
        frame_stack: int. Observations per stack.
        observation_shape: tuple. One observation.
        observation_dtype: `"uint8"` or `"float32"`.

    Example:

    >>> stack = FrameStack(4, (84, 84), "uint8")
    >>> state = stack.reset(first_frame)      # (84, 84, 4), three zero frames and the first
    >>> state = stack.push(next_frame)
    """

    def __init__(self, frame_stack, observation_shape, observation_dtype):
        _check_observation_spec(tuple(observation_shape), observation_dtype, frame_stack)
        self.frames = np.zeros((int(frame_stack), *observation_shape), observation_dtype)

    def reset(self, observation):
        """Starts an episode with `observation`; returns the stacked state."""
        self.frames[:] = 0
        return self.push(observation)

    def push(self, observation):
        """Adds the newest `observation`; returns the stacked state."""
        self.frames[:-1] = self.frames[1:]
        self.frames[-1] = observation
        return _stack(list(self.frames), self.frames.ndim - 1)


class ReplayBuffer:
    """A uniform replay buffer of the last `capacity` observations, stacked when sampled.

    Experience arrives as a stream: `start(observation)` begins an episode and
    `add(action, reward, terminal, next_observation)` records each step. Each slot holds one
    observation with the action taken from it, the reward and whether the step ended in a
    terminal state; so one slot per step, plus one per episode for its last observation
    (kept so that an episode cut by a time limit still bootstraps from it). A slot can be
    sampled as a transition when the next slot holds the next observation of its episode.

    Memory is bounded: `capacity` slots of one observation each (a 84x84 uint8 frame is 7 KB,
    so 100,000 frames take 0.7 GB); the arrays are allocated up front and filled lazily by
    the operating system.

    Args:
        capacity: int. Slots kept; the oldest are overwritten.
        observation_shape: tuple. One observation: `(n,)`, `(H, W)` or `(H, W, C)`.
        observation_dtype: `"uint8"` for pixels (frames, MinAtar planes) or `"float32"` for
            state vectors. Defaults to `"uint8"`.
        frame_stack: int. Observations per sampled state. Defaults to `1`.

    Example:

    >>> replay = ReplayBuffer(100_000, (84, 84), "uint8", frame_stack=4)
    >>> replay.start(observation)
    >>> replay.add(action, reward, terminal, next_observation)
    >>> states, actions, rewards, next_states, terminals = replay.sample(32, rng)
    """

    def __init__(self, capacity, observation_shape, observation_dtype="uint8", frame_stack=1):
        observation_shape = tuple(int(n) for n in observation_shape)
        _check_observation_spec(observation_shape, observation_dtype, frame_stack)
        if int(capacity) < 2:
            raise InvalidInputError(f"A replay buffer needs a capacity of at least 2 observations. "
                                    f"Received: capacity={capacity!r}")
        self.capacity = int(capacity)
        self.observation_shape = observation_shape
        self.observation_dtype = observation_dtype
        self.frame_stack = int(frame_stack)
        self.observations = np.zeros((self.capacity, *observation_shape), observation_dtype)
        self.actions = np.zeros(self.capacity, np.int32)
        self.rewards = np.zeros(self.capacity, np.float32)
        self.terminals = np.zeros(self.capacity, bool)
        self.firsts = np.zeros(self.capacity, bool)
        self.cursor = 0  # the slot written next
        self.size = 0

    def __len__(self):
        return self.size

    # === Writing ===
    def _write(self, observation, first):
        observation = np.asarray(observation)
        if observation.shape != self.observation_shape:
            raise InvalidInputError(f"The replay buffer stores observations of shape {self.observation_shape}. "
                                    f"Received: an observation of shape {observation.shape}")
        slot = self.cursor
        self.observations[slot] = observation
        self.firsts[slot] = first
        self.actions[slot], self.rewards[slot], self.terminals[slot] = 0, 0.0, False
        self.cursor = (slot + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def start(self, observation):
        """Begins an episode with its first `observation`."""
        self._write(observation, first=True)

    def add(self, action, reward, terminal, next_observation):
        """Records one step from the latest observation: the action taken, the reward, whether
        the step ended in a terminal state (no bootstrapping from it) and the next observation."""
        if self.size == 0:
            raise InvalidInputError("The replay buffer has no episode to add a step to. "
                                    "Call `start(observation)` with the episode's first observation first.")
        last = (self.cursor - 1) % self.capacity
        self.actions[last], self.rewards[last], self.terminals[last] = action, reward, terminal
        self._write(next_observation, first=False)

    # === Sampling ===
    def _transition_starts(self, slots):
        """Whether each slot's next slot holds the next observation of the same episode."""
        newest = (self.cursor - 1) % self.capacity
        return (slots != newest) & ~self.firsts[(slots + 1) % self.capacity]

    def stacked(self, slots):
        """The stacked states of `slots` (an int array): each slot's observation and up to
        `frame_stack - 1` before it from the same episode, zeros in place of the rest."""
        slots = np.asarray(slots)
        oldest = self.cursor if self.size == self.capacity else 0
        stored_before = (slots - oldest) % self.capacity  # older slots still in the buffer
        frames = [self.observations[slots]]
        same_episode = np.ones(slots.shape, bool)
        for back in range(1, self.frame_stack):
            same_episode &= (back <= stored_before) & ~self.firsts[(slots - back + 1) % self.capacity]
            frame = self.observations[(slots - back) % self.capacity]
            mask = same_episode.reshape(same_episode.shape + (1,) * len(self.observation_shape))
            frames.append(np.where(mask, frame, np.zeros((), self.observation_dtype)))
        return _stack(frames[::-1], len(self.observation_shape))

    def sample(self, batch_size, rng):
        """Draws `batch_size` transitions uniformly (with replacement) using `rng`.

        Args:
            batch_size: int.
            rng: a `numpy.random.Generator`; the only source of randomness, so a run that
                saves and restores its state samples the same batches.

        Returns:
            `(states, actions, rewards, next_states, terminals)`: stacked states in the
            observation dtype, int32 actions, float32 rewards, float32 terminals (1.0 where the
            step ended the episode in a terminal state).
        """
        chosen = np.empty(0, np.int64)
        for _ in range(_SAMPLING_ROUNDS):
            slots = rng.integers(0, self.size, size=2 * batch_size) if self.size else np.empty(0, np.int64)
            chosen = np.concatenate([chosen, slots[self._transition_starts(slots)]])
            if len(chosen) >= batch_size:
                break
        else:
            raise InvalidInputError(
                f"The replay buffer holds too few transitions to sample from ({self.size} observations, most "
                "of them without a next observation in their episode). Record more steps with `add` first, "
                "e.g. let training run past its `learning_starts`.")
        slots = chosen[:batch_size]
        return (self.stacked(slots), self.actions[slots], self.rewards[slots],
                self.stacked((slots + 1) % self.capacity), self.terminals[slots].astype(np.float32))

    # === Files ===
    def as_arrays(self):
        """Everything the buffer holds, as the arrays `save` writes (only the filled slots)."""
        filled = slice(0, self.size)
        return {"capacity": np.int64(self.capacity), "cursor": np.int64(self.cursor), "size": np.int64(self.size),
                "frame_stack": np.int64(self.frame_stack),
                "observation_shape": np.asarray(self.observation_shape, np.int64),
                "observations": self.observations[filled], "actions": self.actions[filled],
                "rewards": self.rewards[filled], "terminals": self.terminals[filled], "firsts": self.firsts[filled]}

    def save(self, path):
        """Writes the buffer to the `.npz` file `path` atomically (a temporary file beside it,
        then a rename), so an interruption leaves the previous file whole."""
        path = Path(path)
        if path.suffix != ".npz":
            raise InvalidInputError(f"A replay buffer saves to a `.npz` file. Received: path={str(path)!r}")
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **self.as_arrays())
            f.flush()
            os.fsync(f.fileno())

    @classmethod
    def load(cls, path):
        """Reads a buffer written by `save`."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            buffer = cls(int(arrays["capacity"]), tuple(arrays["observation_shape"]),
                         arrays["observations"].dtype.name, int(arrays["frame_stack"]))
            size = int(arrays["size"])
            for name in ("observations", "actions", "rewards", "terminals", "firsts"):
                getattr(buffer, name)[:size] = arrays[name]
        except (OSError, KeyError, ValueError) as e:
            raise CheckpointError(f"{path} is not a readable replay buffer file ({e}). Delete the checkpoint "
                                  "folder it is in to start the run over.") from e
        buffer.size, buffer.cursor = size, int(arrays["cursor"])
        return buffer
