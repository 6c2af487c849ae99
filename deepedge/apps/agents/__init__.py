"""Visual-attention agents, the review's pairing of deep learning with reinforcement learning:
recurrent glimpse agents and deep Q-networks (Mnih et al. 2015) that play gymnasium games
from their states or pixels. Importing this package imports nothing heavy: Keras comes in
with `DQNAgent` and `train`, gymnasium with the environments, when first used.
"""

from deepedge.lazy import lazy_attributes

_LAZY = {
    "DQNAgent": "deepedge.apps.agents.dqn",
    "train": "deepedge.apps.agents.dqn_training",
    "train_preset": "deepedge.apps.agents.dqn_training",
    "evaluate": "deepedge.apps.agents.environments",
    "make_environment": "deepedge.apps.agents.environments",
    "ReplayBuffer": "deepedge.apps.agents.replay",
}

__getattr__ = lazy_attributes(__name__, _LAZY)

__all__ = sorted(_LAZY)
