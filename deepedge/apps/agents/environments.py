"""Gymnasium environments for the agents, and the fixed-seed evaluation of a policy on them.

Three kinds, each with the observations its Q-network reads:

- classic control, e.g. `"CartPole-v1"`: the state vector, float32;
- MinAtar (Young and Tian 2019; PyPI `minatar`), e.g. `"MinAtar/Breakout-v1"`: the 10x10
  pixels with one uint8 plane (0 or 1) per kind of object, `(10, 10, C)`; the `-v1` games use
  the game's minimal action set, `-v0` all six actions; sticky actions (p = 0.1) as in MinAtar;
- Atari through `ale-py`, e.g. `"ALE/Pong-v5"`: the Nature DQN preprocessing (Mnih et al.
  2015) by gymnasium's `AtariPreprocessing`: greyscale 84x84 uint8 frames, the max of the last
  two of every 4 frames (frame skip 4), up to 30 no-ops at reset, and no sticky actions.
  The Nature DQN also ends an episode on the loss of a life while training; `deepedge` does
  that in the training loop (`train(..., terminal_on_life_loss=True)`: the target does not
  bootstrap across a lost life, but the game goes on), so evaluation plays whole games.

gymnasium, minatar and ale-py are imported only when an environment is made, never by
`import deepedge`; `evaluate` needs numpy and gymnasium only, so it can score a Q-network
running in the LiteRT interpreter the same way as the Keras one.
"""

import dataclasses
import functools
import importlib
import warnings

import numpy as np

from deepedge.apps.agents.replay import FrameStack
from deepedge.errors import DataNotFoundError, InvalidInputError

# The versions `pip install 'deepedge[agents]'` installs.
PACKAGES = {"gymnasium": "gymnasium==1.4.0", "minatar": "minatar==1.0.15", "ale_py": "ale-py==0.12.1",
            "cv2": "opencv-python-headless==5.1.0.95"}
SUPPORTED = "'CartPole-v1' (and other classic control tasks), 'MinAtar/<Game>-v0|v1', 'ALE/<Game>-v5'"


def _require(module, needed_for):
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise DataNotFoundError(
            f"{needed_for} needs the Python package `{PACKAGES[module].split('==')[0]}`, which is not installed "
            f"({e}). Install it with `pip install '{PACKAGES[module]}'`, or all the agents' environments with "
            "`pip install 'deepedge[agents]'`.") from e


def _forgetting_last_action(gym, env):
    """`env` (a MinAtar game) with its last action forgotten at each reset: MinAtar keeps it,
    so a sticky action could repeat the previous episode's, and an episode would depend on
    more than its seed."""

    class ForgetLastAction(gym.Wrapper):
        def reset(self, **kwargs):
            self.env.unwrapped.game.last_action = 0
            return self.env.reset(**kwargs)

    return ForgetLastAction(env)


def _minatar(gym, name):
    _require("minatar", f"The MinAtar environment {name!r}")
    if name not in gym.registry:
        from minatar.gym import register_envs

        register_envs()
    with warnings.catch_warnings():
        # gymnasium calls `-v0` out of date; it is the MinAtar paper's game (all six actions),
        # which the dqn_minatar_breakout recipe plays on purpose.
        warnings.filterwarnings("ignore", message=".*is out of date.*", category=DeprecationWarning)
        env = _forgetting_last_action(gym, _make(gym, name))
    # Booleans as 0/1 bytes: the replay buffer's uint8 planes, and a dtype LiteRT takes as input.
    space = gym.spaces.Box(0, 1, env.observation_space.shape, np.uint8)
    return gym.wrappers.TransformObservation(env, lambda planes: planes.astype(np.uint8), space)


def _atari(gym, name):
    ale_py = _require("ale_py", f"The Atari environment {name!r}")
    _require("cv2", f"The Atari preprocessing of {name!r}")
    gym.register_envs(ale_py)
    # frameskip=1: AtariPreprocessing skips frames itself (and max-pools the last two).
    env = _make(gym, name, frameskip=1, repeat_action_probability=0.0)
    return gym.wrappers.AtariPreprocessing(env, noop_max=30, frame_skip=4, screen_size=84,
                                           terminal_on_life_loss=False, grayscale_obs=True, scale_obs=False)


def _make(gym, name, **kwargs):
    try:
        return gym.make(name, **kwargs)
    except gym.error.Error as e:
        raise InvalidInputError(f"No gymnasium environment {name!r} ({e}). Expected one of {SUPPORTED}. "
                                f"Received: name={name!r}") from e


def make_environment(name, seed=None):
    """A gymnasium environment with the observations its Q-network reads.

    Args:
        name: str. `"CartPole-v1"`, a MinAtar game (`"MinAtar/Breakout-v1"`) or an Atari game
            (`"ALE/Pong-v5"`); see the module docstring for what each observes.
        seed: int or None. Seeds the first `reset` and the action space's `sample()`.
            Defaults to `None`.

    Returns:
        A `gymnasium.Env` with a `Discrete` action space whose observations are float32 state
        vectors or uint8 pixels.

    Raises:
        DataNotFoundError: a package the environment needs is not installed (the message says
            what to `pip install`).
        InvalidInputError: `name` is no environment, or not one with discrete actions and
            vector or pixel observations.
    """
    gym = _require("gymnasium", f"The environment {name!r}")
    if name.startswith("MinAtar/"):
        env = _minatar(gym, name)
    elif name.startswith("ALE/"):
        env = _atari(gym, name)
    else:
        env = _make(gym, name)
    observation_space = env.observation_space
    if not isinstance(env.action_space, gym.spaces.Discrete) or not isinstance(observation_space, gym.spaces.Box):
        raise InvalidInputError(f"The agents play environments with discrete actions and array observations; "
                                f"{name!r} has actions {env.action_space} and observations {observation_space}. "
                                f"Expected one of {SUPPORTED}.")
    if observation_space.dtype not in (np.uint8, np.float32):
        raise InvalidInputError(f"{name!r} observes {observation_space.dtype} arrays; the agents read uint8 pixels "
                                f"or float32 states. Expected one of {SUPPORTED}.")
    if seed is not None:
        env.reset(seed=int(seed))
        env.action_space.seed(int(seed))
    return env


_MINATAR_ACTIONS = ("no-op", "left", "up", "right", "down", "fire")


def action_names(env):
    """A short name for each action of `env` (made by `make_environment`), for pictures."""
    game = env.unwrapped
    if hasattr(game, "get_action_meanings"):  # Atari
        return [name.lower().replace("_", "-") for name in game.get_action_meanings()]
    if hasattr(game, "game") and hasattr(game, "action_set"):  # MinAtar
        return [_MINATAR_ACTIONS[int(a)] for a in game.action_set]
    if type(game).__name__ == "CartPoleEnv":
        return ["push left", "push right"]
    return [f"action {i}" for i in range(int(env.action_space.n))]


@dataclasses.dataclass(frozen=True)
class Episodes:
    """The held-out "data" of an agent: fixed-seed episodes of an environment.

    Attributes:
        environment: str. See `make_environment`.
        episodes: int. How many.
        seed: int. Fixes each episode's start and the exploratory actions (`episode_returns`).
        epsilon: float. The chance of a random action at each step.
        split: str. What the episodes are for ("test": scoring; "train": calibration states).
    """

    environment: str
    episodes: int = 100
    seed: int = 10_000
    epsilon: float = 0.05
    split: str = "test"

    def take(self, count):
        """The first `count` of these episodes."""
        return dataclasses.replace(self, episodes=min(self.episodes, int(count)))


def evaluate_episodes(policy, episodes, frame_stack=None):
    """The mean return of `policy` over the `Episodes` `episodes`."""
    return evaluate(policy, episodes.environment, episodes.episodes, episodes.seed, episodes.epsilon, frame_stack)


def collect_states(policy, episodes, frame_stack=1, count=2_000):
    """`count` stacked states (float32) met while `policy` plays the `Episodes` `episodes`,
    spread evenly over the states of whole episodes: the int8 calibration set of a Q-network.
    Plays at most `episodes.episodes` episodes, and stops once it has four times `count`."""
    env = make_environment(episodes.environment)
    rng = np.random.default_rng([int(episodes.seed), 2016])
    stack = FrameStack(frame_stack, env.observation_space.shape, env.observation_space.dtype.name)
    states = []
    for episode in range(episodes.episodes):
        observation, _ = env.reset(seed=episode_seed(episodes.seed, episode))
        state, done = stack.reset(observation), False
        while not done:
            states.append(np.asarray(state, np.float32))
            explore = rng.random() < episodes.epsilon
            action = int(rng.integers(env.action_space.n)) if explore else int(policy(state))
            observation, _, terminated, truncated, _ = env.step(action)
            state, done = stack.push(observation), terminated or truncated
        if len(states) >= 4 * count:
            break
    env.close()
    chosen = np.linspace(0, len(states) - 1, min(count, len(states))).round().astype(int)
    return np.stack([states[i] for i in chosen])


def episode_seed(seed, episode):
    """The seed of the `episode`-th reset of a run seeded with `seed`: each episode's start is
    fixed by its number alone, so a resumed run replays the episodes a straight one plays."""
    return int(np.random.SeedSequence([int(seed), int(episode)]).generate_state(1)[0])


def episode_returns(policy, env_name, episodes=100, seed=0, epsilon=0.05, frame_stack=None):
    """The undiscounted return of each of `episodes` fixed-seed episodes played by `policy`.

    Args:
        policy: a callable `state -> action` (an int), where `state` is the stacked
            observation without a batch axis (`FrameStack` builds it): a `DQNAgent`, or a
            numpy function around an exported Q-network.
        env_name: str. See `make_environment`.
        episodes: int. Defaults to `100`.
        seed: int. Fixes every episode's start (`episode_seed(seed, i)`) and the exploratory
            actions, so two policies are scored on the same episodes. Defaults to `0`.
        epsilon: float. The chance of a uniformly random action at each step. Defaults to
            `0.05`, the Nature DQN's evaluation epsilon (it keeps an Atari agent from getting
            stuck); `0.0` scores the greedy policy (as for CartPole's 475 threshold).
        frame_stack: int. Observations per state. Defaults to `policy.frame_stack` when the
            policy has one (a `DQNAgent`), else 1.

    Returns:
        A float64 array of the `episodes` returns.
    """
    if not 0.0 <= epsilon <= 1.0:
        raise InvalidInputError(f"epsilon is a probability in [0, 1]. Received: epsilon={epsilon!r}")
    frame_stack = frame_stack or getattr(policy, "frame_stack", 1)
    env = make_environment(env_name)
    rng = np.random.default_rng([int(seed), 2015])
    stack = FrameStack(frame_stack, env.observation_space.shape, env.observation_space.dtype.name)
    returns = np.zeros(episodes)
    for episode in range(episodes):
        observation, _ = env.reset(seed=episode_seed(seed, episode))
        state, done = stack.reset(observation), False
        while not done:
            explore = rng.random() < epsilon
            action = int(rng.integers(env.action_space.n)) if explore else int(policy(state))
            observation, reward, terminated, truncated, _ = env.step(action)
            returns[episode] += reward
            state, done = stack.push(observation), terminated or truncated
    env.close()
    return returns


@functools.lru_cache(maxsize=32)
def random_policy_return(episodes):
    """The mean return of a uniformly random policy over the `Episodes` `episodes`: the same
    starts, every action drawn at random (what "beats the random policy" is measured against).
    Fixed by the episodes' seed, so it is played once per `Episodes` in a process: an export
    asks for it in its card and again in its parity check (30 games of Pong)."""
    return evaluate(lambda state: 0, episodes.environment, episodes.episodes, episodes.seed, 1.0, frame_stack=1)


def evaluate(policy, env_name, episodes=100, seed=0, epsilon=0.05, frame_stack=None):
    """The mean return of `policy` over `episodes` fixed-seed episodes; the arguments are
    those of `episode_returns`."""
    return float(np.mean(episode_returns(policy, env_name, episodes, seed, epsilon, frame_stack)))
