"""On-device deep Q-network: a stacked state in, action values out, the greedy action chosen.

The `.tflite` is the Q-network with a batch of one; `model.json` records the environment,
the frame stacking and the action names. `EdgeQNetwork` is a policy (`agent(state)` is an
action), so `evaluate_metric` plays the same fixed-seed episodes as the float network and
`deepedge play` draws a game. gymnasium (and the game's package) are imported only to play.
"""

import numpy as np

from deepedge.errors import InvalidInputError
from deepedge.runtime.base import EdgeModel


class EdgeQNetwork(EdgeModel):
    """An exported `QNetwork`.

    Args:
        path: the model folder (or its `.tflite` or `model.json`).
        num_threads: int. Interpreter threads. Defaults to `1`.

    Example:

    >>> agent = deepedge.runtime.load("saved_models/dqn_cartpole")
    >>> agent(state)                         # the greedy action for one stacked state
    >>> agent.play_episode(seed=10_000, episode=3)["return"]
    """

    task_name = "q_learning"
    metric_name = "mean_return"
    metadata_fields = {"environment?": "text", "frame_stack?": "count", "action_names?": "strings"}

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        meta = self.metadata
        self.environment = meta.get("environment")
        self.frame_stack = int(meta.get("frame_stack", 1))
        self.num_actions = int(meta["outputs"][0]["shape"][-1])
        self.action_names = list(meta.get("action_names") or [f"action {i}" for i in range(self.num_actions)])
        self._check_rank(self.output_specs[0], "(1, actions)")
        self._check_classes("action names", len(self.action_names), self.output_specs[0])
        self.state_shape = tuple(self.input_specs[0]["shape"][1:])

    def q_values(self, state):
        """The action values `(num_actions,)` of one stacked state (without a batch axis)."""
        from deepedge.validation import uniform_batch

        state = uniform_batch("state", state, "observation")
        if state.shape != self.state_shape:
            raise InvalidInputError(f"A state of this Q-network has shape {self.state_shape} "
                                    f"({self.frame_stack} stacked observation(s) of {self.environment}). "
                                    f"Received: shape={state.shape}.")
        return self.invoke(state[None])[0][0]

    def __call__(self, state):
        """The greedy action (an int) for one stacked state."""
        return int(np.argmax(self.q_values(state)))

    def _episodes(self, data):
        from deepedge.apps.agents.environments import Episodes

        if not isinstance(data, Episodes):
            raise InvalidInputError(f"A Q-network is scored on `Episodes`. Received: {type(data).__name__}.")
        return data

    def evaluate_metric(self, data):
        """The mean return over the fixed-seed `Episodes` `data`, played greedily on device."""
        from deepedge.apps.agents.environments import evaluate_episodes

        return evaluate_episodes(self, self._episodes(data), self.frame_stack)

    def play_episode(self, seed=0, episode=0, epsilon=0.0, max_steps=None, record=False):
        """Plays the episode `episode` of the fixed-seed `Episodes` of `seed`.

        Args:
            seed: int. The episodes' seed (as `Episodes.seed`).
            episode: int. Which of them (its start is `episode_seed(seed, episode)`).
            epsilon: float. The chance of a random action at each step. Defaults to `0.0`.
            max_steps: int or None. Stop after this many steps. Defaults to `None` (the game's end).
            record: bool. Keep each observation and action (for a GIF). Defaults to `False`.

        Returns:
            dict: `return`, `steps`, and with `record` `observations` (the observation before
            each action, and the last), `actions`, `rewards`.
        """
        from deepedge.apps.agents.environments import episode_seed, make_environment
        from deepedge.apps.agents.replay import FrameStack
        from deepedge.validation import non_negative_int, optional_positive_int, probability

        seed = non_negative_int("seed", seed, hint="Pass the episodes' seed, a non-negative integer (as `Episodes.seed`).")
        episode = non_negative_int("episode", episode, hint="Pass which episode to play: 0, 1, 2, ...")
        epsilon = probability("epsilon", epsilon, hint="Pass the chance of a random action, from 0 to 1 (0 plays "
                              "greedily).")
        max_steps = optional_positive_int("max_steps", max_steps, hint="Pass the most steps to play, or None to "
                                          "play to the game's end.")
        if self.environment is None:
            raise InvalidInputError("This Q-network does not record the environment it plays; export it again "
                                    "from a QNetwork made with environment=...")
        env = make_environment(self.environment)
        rng = np.random.default_rng([int(seed), int(episode), 2015])
        stack = FrameStack(self.frame_stack, env.observation_space.shape, env.observation_space.dtype.name)
        observation, _ = env.reset(seed=episode_seed(seed, episode))
        state, done, total, steps = stack.reset(observation), False, 0.0, 0
        observations, actions, rewards = [observation], [], []
        while not done and (max_steps is None or steps < max_steps):
            action = int(rng.integers(self.num_actions)) if rng.random() < epsilon else self(state)
            observation, reward, terminated, truncated, _ = env.step(action)
            total, steps, done = total + float(reward), steps + 1, terminated or truncated
            state = stack.push(observation)
            if record:
                observations.append(observation)
                actions.append(action)
                rewards.append(float(reward))
        env.close()
        result = {"return": total, "steps": steps}
        if record:
            result.update(observations=observations, actions=actions, rewards=rewards)
        return result


__all__ = ["EdgeQNetwork"]
