"""Deep Q-networks (Mnih et al. 2015): the agent and its Q-networks.

`DQNAgent` holds an online and a target Q-network, the optimizer, the exploration schedule
and a `tf.function` training step (Huber or squared TD error, plain or Double DQN targets).
The training loop that plays an environment and survives being killed is `dqn_training.train`.
"""

import json
from pathlib import Path

import numpy as np

from deepedge.apps.agents.q_network import NETWORKS, QNetwork
from deepedge.apps.agents.replay import OBSERVATION_DTYPES, stacked_shape
from deepedge.backend import keras, tf
from deepedge.errors import CheckpointError, InvalidInputError, ModelFileError
from deepedge.fileio import atomic_path, atomic_write_json

LOSSES = ("huber", "mse")
OPTIMIZERS = ("adam", "rmsprop")

__all__ = ["NETWORKS", "DQNAgent", "build_q_network"]


def build_q_network(input_shape, num_actions, network="mlp", hidden_units=(64, 64), **kwargs):
    """A `QNetwork`: a stacked state in, one action value per action out.

    Args:
        input_shape: tuple. The stacked state (`stacked_shape`).
        num_actions: int.
        network: `"mlp"`, `"minatar"` or `"nature"` (see `QNetwork`). Defaults to `"mlp"`.
        hidden_units: tuple of int. The MLP's hidden layers. Defaults to `(64, 64)`.
        **kwargs: what the network records of its game (`environment`, `frame_stack`,
            `observation_dtype`, `action_names`).

    Returns:
        A `QNetwork` (a functional `keras.Model`) taking float32 states.
    """
    return QNetwork(input_shape, num_actions, network, hidden_units, **kwargs)


class DQNAgent:
    """A deep Q-network agent (Mnih et al. 2015), with the Double DQN option (van Hasselt et al. 2016).

    The online network learns from replayed transitions toward
    `r + gamma * (1 - terminal) * Q_target(s', a*)`, where `a*` is the target network's best
    action (DQN) or the online network's (Double DQN); the target network is a copy of the
    online one, refreshed every `target_update_every` updates. Called on one stacked state,
    the agent returns its greedy action, so `evaluate(agent, ...)` scores it.

    Args:
        observation_shape: tuple. One observation: `(n,)`, `(H, W)` or `(H, W, C)`.
        num_actions: int.
        observation_dtype: `"float32"` (state vectors) or `"uint8"` (pixels). Defaults to `"float32"`.
        network: `"mlp"`, `"minatar"` or `"nature"` (see `build_q_network`). Defaults to `"mlp"`.
        hidden_units: tuple of int. The MLP's hidden layers. Defaults to `(64, 64)`.
        frame_stack: int. Observations per state (4 for Atari). Defaults to `1`.
        double: bool. Double DQN targets. Defaults to `True`.
        loss: `"huber"` (the Nature DQN's TD error clipped to [-1, 1] in the gradient) or
            `"mse"`. Defaults to `"huber"`.
        gamma: float. The discount. Defaults to `0.99`.
        optimizer: `"adam"` or `"rmsprop"`: the centred RMSprop of the Nature DQN and MinAtar
            (rho 0.95; Keras adds its epsilon, 1e-4, under the square root, which for small
            gradients matches their 0.01 outside it). Defaults to `"adam"`.
        learning_rate: float. Defaults to `1e-3`.
        final_learning_rate: float or None. The rate reached, linearly, after
            `learning_rate_decay_steps` updates; `None` keeps it constant. Defaults to `None`.
        learning_rate_decay_steps: int. Defaults to `0`.
        target_update_every: int. Updates between copies of the online network into the
            target network. Defaults to `500`.
        epsilon_start, epsilon_end: float. The exploration schedule: epsilon falls linearly
            from `epsilon_start` to `epsilon_end` over `epsilon_decay_steps` steps (counted
            from the start of learning). Default to `1.0` and `0.05`.
        epsilon_decay_steps: int. Defaults to `10_000`.
        environment: str or None. The environment the agent plays; its Q-networks record it
            (with `action_names`) for the export and the on-device runtime. Defaults to `None`.
        action_names: list of str or None. Defaults to `None`.

    Example:

    >>> agent = DQNAgent((4,), 2, hidden_units=(128, 128))
    >>> agent(np.zeros(4, np.float32))         # the greedy action
    >>> loss = agent.update(replay.sample(64, rng))
    """

    def __init__(self, observation_shape, num_actions, observation_dtype="float32", network="mlp",
                 hidden_units=(64, 64), frame_stack=1, double=True, loss="huber", gamma=0.99, optimizer="adam",
                 learning_rate=1e-3, final_learning_rate=None, learning_rate_decay_steps=0, target_update_every=500,
                 epsilon_start=1.0, epsilon_end=0.05, epsilon_decay_steps=10_000, environment=None,
                 action_names=None):
        if loss not in LOSSES:
            raise InvalidInputError(f"Unknown loss. Expected one of {LOSSES}. Received: loss={loss!r}")
        if optimizer not in OPTIMIZERS:
            raise InvalidInputError(f"Unknown optimizer. Expected one of {OPTIMIZERS}. "
                                    f"Received: optimizer={optimizer!r}")
        if observation_dtype not in OBSERVATION_DTYPES:
            raise InvalidInputError(f"observation_dtype must be one of {OBSERVATION_DTYPES} (uint8 for pixels, "
                                    f"float32 for state vectors). Received: observation_dtype={observation_dtype!r}")
        if int(num_actions) < 2:
            raise InvalidInputError(f"An agent needs at least 2 actions to choose from. "
                                    f"Received: num_actions={num_actions!r}")
        if int(target_update_every) < 1:
            raise InvalidInputError(f"target_update_every must be at least 1. "
                                    f"Received: target_update_every={target_update_every!r}")
        if not 0.0 <= epsilon_end <= 1.0 or not 0.0 <= epsilon_start <= 1.0:
            raise InvalidInputError("epsilon_start and epsilon_end are probabilities in [0, 1]. "
                                    f"Received: epsilon_start={epsilon_start!r}, epsilon_end={epsilon_end!r}")
        self.observation_shape = tuple(int(n) for n in observation_shape)
        self.num_actions = int(num_actions)
        self.observation_dtype = observation_dtype
        self.network, self.hidden_units = network, tuple(int(n) for n in hidden_units)
        self.frame_stack = int(frame_stack)
        self.double, self.loss, self.gamma = bool(double), loss, float(gamma)
        self.optimizer_name, self.learning_rate = optimizer, float(learning_rate)
        self.final_learning_rate, self.learning_rate_decay_steps = final_learning_rate, int(learning_rate_decay_steps)
        self.target_update_every = int(target_update_every)
        self.epsilon_start, self.epsilon_end = float(epsilon_start), float(epsilon_end)
        self.epsilon_decay_steps = int(epsilon_decay_steps)

        # === Networks ===
        self.input_shape = stacked_shape(self.observation_shape, self.frame_stack)
        self.environment, self.action_names = environment, action_names
        records = {"environment": environment, "frame_stack": self.frame_stack,
                   "observation_dtype": observation_dtype, "action_names": action_names}
        self.online = build_q_network(self.input_shape, self.num_actions, network, self.hidden_units, **records)
        self.target = build_q_network(self.input_shape, self.num_actions, network, self.hidden_units, **records)
        self.sync_target()
        self.optimizer = self._build_optimizer()
        self.optimizer.build(self.online.trainable_variables)
        # XLA makes a convolutional step about a fifth faster on CPU (MinAtar: 4.5 ms against 5.7
        # ms a batch of 32); it slows the small MLP's.
        self.jit_compile = network != "mlp"
        self._train_step = tf.function(self._train_step_eager, jit_compile=self.jit_compile)
        self._greedy_actions = tf.function(self._greedy_actions_eager)

    def _build_optimizer(self):
        rate = self.learning_rate
        if self.final_learning_rate is not None and self.learning_rate_decay_steps > 0:
            rate = keras.optimizers.schedules.PolynomialDecay(
                self.learning_rate, self.learning_rate_decay_steps, end_learning_rate=self.final_learning_rate)
        if self.optimizer_name == "rmsprop":
            return keras.optimizers.RMSprop(rate, rho=0.95, epsilon=1e-4, centered=True)
        return keras.optimizers.Adam(rate)

    # === Acting ===
    def epsilon(self, step):
        """The exploration rate `step` steps after learning started (linear, then flat)."""
        if self.epsilon_decay_steps <= 0:
            return self.epsilon_end
        fraction = min(1.0, max(0, step) / self.epsilon_decay_steps)
        return self.epsilon_start + fraction * (self.epsilon_end - self.epsilon_start)

    def _greedy_actions_eager(self, states):
        return tf.argmax(self.online(tf.cast(states, tf.float32), training=False), axis=-1, output_type=tf.int32)

    def __call__(self, state):
        """The greedy action (an int) for one stacked state, without a batch axis."""
        return int(self._greedy_actions(np.asarray(state)[None])[0])

    def act(self, state, epsilon, rng):
        """An epsilon-greedy action: uniformly random with probability `epsilon` (drawn from
        the numpy generator `rng`), else the greedy one."""
        if rng.random() < epsilon:
            return int(rng.integers(self.num_actions))
        return self(state)

    def q_values(self, states):
        """The online network's action values for a batch of stacked states, as numpy."""
        return keras.ops.convert_to_numpy(self.online(tf.cast(states, tf.float32), training=False))

    # === Learning ===
    def _td_targets(self, rewards, next_states, terminals):
        next_states = tf.cast(next_states, tf.float32)
        next_q = self.target(next_states, training=False)
        if self.double:
            best = tf.argmax(self.online(next_states, training=False), axis=-1, output_type=tf.int32)
            next_values = tf.gather(next_q, best, batch_dims=1)
        else:
            next_values = tf.reduce_max(next_q, axis=-1)
        return rewards + self.gamma * (1.0 - terminals) * next_values

    def td_targets(self, rewards, next_states, terminals):
        """The regression targets of a batch of transitions, as numpy (what `update` fits)."""
        return keras.ops.convert_to_numpy(self._td_targets(
            np.asarray(rewards, np.float32), next_states, np.asarray(terminals, np.float32)))

    def _train_step_eager(self, states, actions, rewards, next_states, terminals):
        targets = tf.stop_gradient(self._td_targets(rewards, next_states, terminals))
        with tf.GradientTape() as tape:
            q = self.online(tf.cast(states, tf.float32), training=True)
            errors = targets - tf.gather(q, actions, batch_dims=1)
            if self.loss == "huber":
                magnitude = tf.abs(errors)
                losses = tf.where(magnitude <= 1.0, 0.5 * tf.square(errors), magnitude - 0.5)
            else:
                losses = tf.square(errors)
            loss = tf.reduce_mean(losses)
        variables = self.online.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    def update(self, batch):
        """One gradient step on `batch` (`ReplayBuffer.sample`'s tuple); refreshes the target
        network every `target_update_every` updates. Returns the loss."""
        loss = self._train_step(*batch)
        if int(self.optimizer.iterations) % self.target_update_every == 0:
            self.sync_target()
        return float(loss)

    def sync_target(self):
        """Copies the online network's weights into the target network."""
        self.target.set_weights(self.online.get_weights())

    # === Training state ===
    def training_state(self):
        """Both networks' weights and the optimizer's variables (its step counter included), as
        a dict of numpy arrays."""
        groups = (("online", self.online.weights), ("target", self.target.weights),
                  ("optimizer", self.optimizer.variables))
        return {f"{group}_{i:03d}": v.numpy()
                for group, variables in groups for i, v in enumerate(variables)}

    def restore_training_state(self, arrays):
        """Restores what `training_state` returned."""
        groups = (("online", self.online.weights), ("target", self.target.weights),
                  ("optimizer", self.optimizer.variables))
        expected = {f"{group}_{i:03d}": v for group, variables in groups for i, v in enumerate(variables)}
        mismatched = sorted(k for k, v in expected.items()
                            if k not in arrays or tuple(arrays[k].shape) != tuple(v.shape))
        if mismatched or len(arrays) != len(expected):
            raise CheckpointError(f"The saved training state does not fit this agent ({len(arrays)} arrays for "
                                  f"{len(expected)} variables; mismatched: {mismatched[:5]}). Delete the "
                                  "checkpoint folder to start over, or build the agent it was saved from.")
        for key, variable in expected.items():
            variable.assign(arrays[key])

    # === Config ===
    def get_config(self):
        return {"observation_shape": list(self.observation_shape), "num_actions": self.num_actions,
                "observation_dtype": self.observation_dtype, "network": self.network,
                "hidden_units": list(self.hidden_units), "frame_stack": self.frame_stack, "double": self.double,
                "loss": self.loss, "gamma": self.gamma, "optimizer": self.optimizer_name,
                "learning_rate": self.learning_rate, "final_learning_rate": self.final_learning_rate,
                "learning_rate_decay_steps": self.learning_rate_decay_steps,
                "target_update_every": self.target_update_every, "epsilon_start": self.epsilon_start,
                "epsilon_end": self.epsilon_end, "epsilon_decay_steps": self.epsilon_decay_steps,
                "environment": self.environment, "action_names": self.action_names}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # === Files ===
    def save(self, folder):
        """Writes `q_network.keras` (the online network) and `agent.json` (the config) into
        `folder`, each atomically."""
        folder = Path(folder)
        with atomic_path(folder / "q_network.keras") as tmp:
            self.online.save(tmp)
        atomic_write_json(folder / "agent.json", self.get_config())

    @classmethod
    def load(cls, folder):
        """An agent saved by `save`, its target network a copy of its online network."""
        folder = Path(folder)
        try:
            config = json.loads((folder / "agent.json").read_text())
            network = keras.saving.load_model(folder / "q_network.keras", safe_mode=True)
        except Exception as e:  # Keras raises ValueError, TypeError, KeyError, zipfile errors...
            raise ModelFileError(f"{folder} does not hold an agent saved by `DQNAgent.save` ({e}). Expected "
                                 "`agent.json` and `q_network.keras` in it.") from e
        agent = cls.from_config(config)
        agent.online.set_weights(network.get_weights())
        agent.sync_target()
        return agent
