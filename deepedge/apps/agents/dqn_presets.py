"""Deep Q-network presets and recipes: plain data.

`ARCHITECTURES` are the untrained Q-networks (`QNetwork.from_preset("q_minatar",
environment="MinAtar/Breakout-v1")` sizes one for a game).
Each recipe names its environment, the `DQNAgent` arguments (`agent`), the arguments of
`deepedge.apps.agents.dqn.train` (`recipe`) and how the trained agent is scored
(`evaluation`: episodes, seed and epsilon of `evaluate`). `train_preset(name, folder)` runs one.
"""

ARCHITECTURES = {
    "q_mlp": {"description": "Two ReLU layers of 128 units on a state vector (classic control).",
              "config": {"network": "mlp", "hidden_units": (128, 128)}},
    "q_minatar": {"description": "The MinAtar paper's network: 16 3x3 filters and 128 units on 10x10 planes.",
                  "config": {"network": "minatar", "frame_stack": 1}},
    "q_nature": {"description": "The Nature DQN: three convolutions and 512 units on four stacked 84x84 frames.",
                 "config": {"network": "nature", "frame_stack": 4}},
}

TRAINED = {
    # Tuned here: the Huber loss with a target refresh every 500 updates plateaued near 110
    # after 60k steps; the squared error with a refresh every 200 updates and the rate decayed
    # to a tenth plays every one of the 100 evaluation episodes to the 500-step limit.
    "dqn_cartpole": {
        "description": "Double DQN on CartPole-v1 from its 4-number state: a 2x128 MLP.",
        "environment": "CartPole-v1",
        "architecture": "q_mlp",
        "data": "CartPole-v1",
        "agent": {"network": "mlp", "hidden_units": (128, 128), "double": True, "loss": "mse", "gamma": 0.99,
                  "optimizer": "adam", "learning_rate": 1e-3, "final_learning_rate": 1e-4,
                  "learning_rate_decay_steps": 50_000, "target_update_every": 200,
                  "epsilon_start": 1.0, "epsilon_end": 0.02, "epsilon_decay_steps": 10_000},
        "recipe": {"steps": 50_000, "replay_capacity": 50_000, "batch_size": 64, "learning_starts": 1_000,
                   "train_every": 1, "checkpoint_every": 5_000, "seed": 0},
        "evaluation": {"episodes": 100, "seed": 10_000, "epsilon": 0.0},
        # `deepedge train dqn_cartpole --quantization-aware` (deepedge.apps.agents.dqn_qat): the
        # network distilled into its fake-quantizing twin on 20,000 states of 60 other episodes
        # (seed 2,000, epsilon 0.1). Measured 2026-12-06: int8 500.0 over the 100 held-out
        # episodes, against 490.63 post-training (and 464.29 for the same distillation in float).
        "quantization_aware": {"epochs": 3, "learning_rate": 1e-4, "batch_size": 64, "episodes": 60,
                               "epsilon": 0.1, "seed": 2_000, "states": 20_000},
    },
    # The MinAtar paper's DQN (Young and Tian 2019, appendix): replay 100k, batch 32, target
    # update every 1,000 updates, centred RMSprop, epsilon 1 -> 0.1 over 100k frames after 5,000
    # random ones, one update per frame, no frame stacking (the planes carry trails). As the
    # paper's code (examples/dqn.py) and curves: all six actions (Breakout-v0, not -v1's minimal
    # three) and the best step size of its sweep, 2^-9 (the code's default, 2.5e-4, is 2^-12).
    # The earlier recipe (-v1 at 2.5e-4) read 3.43 / 5.02 / 5.66 / 7.11 at 100k / 200k / 300k /
    # 500k frames, 2-3 points under the paper's curve (benchmarks/dqn_seeds.py).
    "dqn_minatar_breakout": {
        "description": "DQN on MinAtar Breakout from its 10x10x4 planes: the MinAtar paper's network and recipe.",
        "environment": "MinAtar/Breakout-v0",
        "architecture": "q_minatar",
        "data": "MinAtar/Breakout-v0",
        "agent": {"network": "minatar", "frame_stack": 1, "double": False, "loss": "huber", "gamma": 0.99,
                  "optimizer": "rmsprop", "learning_rate": 2**-9, "target_update_every": 1_000,
                  "epsilon_start": 1.0, "epsilon_end": 0.1, "epsilon_decay_steps": 100_000},
        "recipe": {"steps": 900_000, "replay_capacity": 100_000, "batch_size": 32, "learning_starts": 5_000,
                   "train_every": 1, "checkpoint_every": 50_000, "seed": 0},
        "evaluation": {"episodes": 100, "seed": 10_000, "epsilon": 0.05},
    },
    # The Nature DQN network and preprocessing on Pong, with the settings of Lapan's "Deep
    # Reinforcement Learning Hands-On" (ch. 6), which learn Pong in far fewer frames than the
    # Nature paper's: one update per step (a step is 4 frames), a 10k-step replay memory, the
    # target refreshed every 1,000 updates, epsilon 1 -> 0.01 over 150k steps, Adam at 1e-4,
    # squared error. (The Nature paper's pace -- an update every 4 steps, a slow epsilon, a
    # target refresh every 2,000 -- was still at -21 after 400k steps here: 233 min of one core.)
    "dqn_pong": {
        "description": "DQN on Atari Pong with the Nature preprocessing and network: 84x84x4 frames.",
        "environment": "ALE/Pong-v5",
        "architecture": "q_nature",
        "data": "ALE/Pong-v5",
        "agent": {"network": "nature", "frame_stack": 4, "double": False, "loss": "mse", "gamma": 0.99,
                  "optimizer": "adam", "learning_rate": 1e-4, "target_update_every": 1_000,
                  "epsilon_start": 1.0, "epsilon_end": 0.01, "epsilon_decay_steps": 150_000},
        "recipe": {"steps": 500_000, "replay_capacity": 10_000, "batch_size": 32, "learning_starts": 10_000,
                   "train_every": 1, "checkpoint_every": 25_000, "clip_rewards": True,
                   "terminal_on_life_loss": True, "seed": 0},
        # the Nature network's 1.7M weights as float16 in model.keras: 3.4 MB, not 6.7
        "half_precision": True,
        # 30 scored episodes, as Mnih et al. (2015) report; 10 left the int8 and float means 1.8
        # points apart at 341k steps, a game's noise as much as quantization's.
        "evaluation": {"episodes": 30, "seed": 10_000, "epsilon": 0.05},
    },
}

PRESETS = {name: {"description": spec["description"], "path": name} for name, spec in TRAINED.items()}
