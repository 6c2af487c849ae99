"""`QNetwork`: a deep Q-network's action values as a deepedge task, the model that ships.

A `DQNAgent` trains two of them (online and target); the online one is what `deepedge export`
takes to the device. It records the environment it plays and its frame stacking, so the
exported model's `model.json` says how the on-device runtime builds its input, and its task
metric is the mean return over fixed-seed episodes (`environments.Episodes`): an int8 export
must keep it within `parity_threshold` percent of the float network's gain over a random policy
(`parity_scale`).
"""

import numpy as np

from deepedge.apps.agents.dqn_presets import ARCHITECTURES, TRAINED
from deepedge.apps.agents.replay import OBSERVATION_DTYPES
from deepedge.apps.task import Task
from deepedge.backend import keras
from deepedge.errors import InvalidInputError

NETWORKS = ("mlp", "minatar", "nature")


def _layers(inputs, num_actions, network, hidden_units):
    x = inputs
    if network == "mlp":
        for i, units in enumerate(hidden_units):
            x = keras.layers.Dense(units, activation="relu", name=f"dense_{i + 1}")(x)
    elif network == "minatar":
        x = keras.layers.Conv2D(16, 3, activation="relu", name="conv")(x)
        x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(128, activation="relu", name="dense")(x)
    else:
        x = keras.layers.Rescaling(1.0 / 255.0, name="scale")(x)
        for i, (filters, size, stride) in enumerate(((32, 8, 4), (64, 4, 2), (64, 3, 1))):
            x = keras.layers.Conv2D(filters, size, strides=stride, activation="relu", name=f"conv_{i + 1}")(x)
        x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(512, activation="relu", name="dense")(x)
    return keras.layers.Dense(num_actions, name="q_values")(x)


@keras.saving.register_keras_serializable(package="deepedge")
class QNetwork(Task, keras.Model):
    """A Q-network: a stacked state in (float32), one action value per action out.

    Args:
        input_shape: tuple. The stacked state (`replay.stacked_shape`).
        num_actions: int.
        network: str. `"mlp"`: ReLU dense layers of `hidden_units` on a state vector;
            `"minatar"`: the MinAtar paper's network (Young and Tian 2019), 16 3x3 filters and
            128 dense units on 10x10 planes; `"nature"`: the Nature DQN's network, three
            convolutions (32 8x8 /4, 64 4x4 /2, 64 3x3) and 512 dense units on 84x84 frames,
            scaled from bytes to [0, 1] inside the model. Defaults to `"mlp"`.
        hidden_units: tuple of int. The MLP's hidden layers. Defaults to `(64, 64)`.
        environment: str or None. The gymnasium environment it plays (`"CartPole-v1"`); the
            export and the runtime need it to score the network. Defaults to `None`.
        frame_stack: int. Observations per state. Defaults to `1`.
        observation_dtype: `"float32"` (state vectors) or `"uint8"` (pixels). Defaults to `"float32"`.
        action_names: list of str or None. For pictures and tables. Defaults to `None`.

    Example:

    >>> q = QNetwork((4,), 2, hidden_units=(128, 128), environment="CartPole-v1")
    >>> q.greedy_action(np.zeros(4, np.float32))
    1
    """

    family = "agents"
    task_name = "q_learning"
    metric_name = "mean_return"
    metric_higher_is_better = True
    parity_threshold = 5.0  # percent of the float network's gain over a random policy (parity_scale)
    parity_relative = True
    # The action values' last layer stays float32: int8 steps of a few hundredths on values
    # that differ by less near a decision flip CartPole's actions (measured: 462 against 500).
    edge_float_layers = ("q_values",)
    architectures = ARCHITECTURES
    trained = TRAINED

    def __init__(self, input_shape, num_actions, network="mlp", hidden_units=(64, 64), environment=None,
                 frame_stack=1, observation_dtype="float32", action_names=None, **kwargs):
        input_shape = tuple(int(n) for n in input_shape)
        if network not in NETWORKS:
            raise InvalidInputError(f"Unknown Q-network. Expected one of {NETWORKS}. Received: network={network!r}")
        expected_rank = {"mlp": 1, "minatar": 3, "nature": 3}[network]
        if len(input_shape) != expected_rank:
            raise InvalidInputError(
                f"The {network!r} Q-network takes states of rank {expected_rank} ('mlp': state vectors, 'minatar' "
                f"and 'nature': (H, W, channels) pixels). Received: input_shape={input_shape}. Choose the network "
                "that fits the environment's observations.")
        if int(num_actions) < 2:
            raise InvalidInputError(f"A Q-network needs at least 2 actions. Received: num_actions={num_actions!r}")
        if observation_dtype not in OBSERVATION_DTYPES:
            raise InvalidInputError(f"observation_dtype must be one of {OBSERVATION_DTYPES}. "
                                    f"Received: observation_dtype={observation_dtype!r}")
        if action_names is not None and len(action_names) != int(num_actions):
            raise InvalidInputError(f"action_names must name each of the {num_actions} actions. "
                                    f"Received: {action_names!r}")
        hidden_units = tuple(int(n) for n in hidden_units)
        # === Functional Model ===
        inputs = keras.Input(input_shape, name="state")
        outputs = _layers(inputs, int(num_actions), network, hidden_units)
        kwargs.setdefault("name", f"{network}_q_network")
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.state_shape = input_shape
        self.num_actions = int(num_actions)
        self.network, self.hidden_units = network, hidden_units
        self.environment = environment
        self.frame_stack = int(frame_stack)
        self.observation_dtype = observation_dtype
        self.action_names = [str(a) for a in action_names] if action_names is not None else None

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "input_shape": list(self.state_shape),
                "num_actions": self.num_actions, "network": self.network, "hidden_units": list(self.hidden_units),
                "environment": self.environment, "frame_stack": self.frame_stack,
                "observation_dtype": self.observation_dtype, "action_names": self.action_names}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def from_architecture(cls, name, environment=None, **kwargs):
        """An untrained Q-network of the preset `name`, sized for `environment` (its observation
        shape, frame stacking, pixel type and actions) or for `input_shape` and `num_actions`."""
        config = {**ARCHITECTURES[name]["config"], **kwargs}
        if environment is not None:
            from deepedge.apps.agents.environments import action_names, make_environment
            from deepedge.apps.agents.replay import stacked_shape

            env = make_environment(environment)
            space = env.observation_space
            config.setdefault("input_shape", stacked_shape(space.shape, config.get("frame_stack", 1)))
            config.setdefault("num_actions", int(env.action_space.n))
            config.setdefault("observation_dtype", space.dtype.name)
            config.setdefault("action_names", action_names(env))
            env.close()
        if "input_shape" not in config or "num_actions" not in config:
            raise InvalidInputError(f"The preset {name!r} needs the game it plays: pass environment=... (for "
                                    "example 'CartPole-v1') or input_shape=... and num_actions=....")
        return cls(environment=environment, **config)

    # === Acting ===
    def q_values(self, states):
        """Action values `(n, num_actions)` for a batch of stacked states, as numpy."""
        states = np.asarray(states, np.float32)
        if states.shape[1:] != self.state_shape:
            raise InvalidInputError(f"States must have shape (n, {', '.join(map(str, self.state_shape))}). "
                                    f"Received: shape={states.shape}.")
        # predict_on_batch runs a compiled function: about 1 ms a call, against 5-10 ms eagerly.
        return np.asarray(self.predict_on_batch(states))

    def greedy_action(self, state):
        """The action (an int) of highest value for one stacked state, without a batch axis."""
        return int(np.argmax(self.q_values(np.asarray(state)[None])[0]))

    # === The task interface ===
    def _episodes(self, data):
        from deepedge.apps.agents.environments import Episodes

        if not isinstance(data, Episodes):
            raise InvalidInputError(f"A Q-network is scored on `Episodes` (environment, episodes, seed, epsilon). "
                                    f"Received: {type(data).__name__}.")
        return data

    def evaluate_metric(self, data):
        """The mean return of the greedy network over the fixed-seed `Episodes` `data`."""
        from deepedge.apps.agents.environments import evaluate_episodes

        return evaluate_episodes(self.greedy_action, self._episodes(data), self.frame_stack)

    def parity_scale(self, data, reference):
        """The float network's gain over a uniformly random policy on the same episodes: an int8
        network may lose `parity_threshold` percent of what training bought. A percentage of the
        return itself means nothing where returns cross zero (Pong's run from -21 to 21: a float
        -0.4 would allow 0.02 points, a float -15 would allow 0.75). Mnih et al. (2015) normalise
        scores the same way, the random policy at 0. A network no better than random falls back
        to the size of its return."""
        from deepedge.apps.agents.environments import random_policy_return

        random_return = random_policy_return(self._episodes(data))
        gain = reference - random_return
        if gain > 0:
            return gain, f"of the float network's gain over a random policy ({random_return:.2f})"
        return abs(reference), "of the float return (no better than a random policy)"

    def count_examples(self, data):
        return int(self._episodes(data).episodes)

    def edge_calibration_inputs(self, data):
        """States met while the float network plays `data` (`Episodes`), or an array of states."""
        from deepedge.apps.agents.environments import Episodes, collect_states

        if isinstance(data, Episodes):
            return collect_states(self.greedy_action, data, self.frame_stack)
        return np.asarray(data, np.float32)

    def edge_metadata(self):
        return {"params": int(self.count_params()), "environment": self.environment,
                "frame_stack": self.frame_stack, "observation_dtype": self.observation_dtype,
                "num_actions": self.num_actions, "action_names": self.action_names, "network": self.network}


__all__ = ["NETWORKS", "QNetwork"]
