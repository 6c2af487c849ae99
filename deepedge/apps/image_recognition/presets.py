"""Image recognition presets: plain data.

An architecture preset (`lenet5`, `edgenet`) builds an untrained model; a trained preset
(`fashion_lenet5`, `fashion_edgenet`) loads the shipped model from `saved_models/` and
carries the recipe that retrains it (`deepedge train NAME`).
"""

ARCHITECTURES = {
    "lenet5": {
        "description": "LeNet-5 (LeCun et al. 1998): tanh convolutions and average pooling, "
                       "inputs scaled to [-0.1, 1.175] as in the paper.",
        "backbone": "lenet5",
        "backbone_config": {},
        "image_scale": 1.275 / 255.0,
        "image_offset": -0.1,
    },
    "edgenet": {
        "description": "deepedge's edge net: a 3x3 stem and five depthwise-separable blocks at 14x14, "
                       "7x7 and 4x4, about 90k parameters.",
        "backbone": "edgenet",
        "backbone_config": {"stem_filters": 16, "block_filters": (48, 96, 128, 192, 192),
                            "block_strides": (2, 1, 2, 2, 1)},
        "image_scale": 1.0 / 255.0,
        "image_offset": 0.0,
    },
}

TRAINED = {
    "fashion_lenet5": {
        "description": "LeNet-5 trained on Fashion-MNIST.",
        "architecture": "lenet5",
        "data": "fashion_mnist",
        # No mirroring: Fashion-MNIST's shoes all point the same way (99.7% of sneakers, every
        # ankle boot), and mirrored ones spend LeNet-5's small capacity on views that never occur.
        "recipe": {"epochs": 60, "batch_size": 64, "learning_rate": 2e-3, "weight_decay": 0.05,
                   "label_smoothing": 0.1, "flip": False, "max_shift": 1, "seed": 1998},
    },
    "fashion_edgenet": {
        "description": "The edge net trained on Fashion-MNIST.",
        "architecture": "edgenet",
        "data": "fashion_mnist",
        "recipe": {"epochs": 20, "batch_size": 128, "learning_rate": 3e-3, "weight_decay": 5e-5,
                   "flip": True, "max_shift": 1, "seed": 2015},
    },
}

PRESETS = {**{k: {"description": v["description"]} for k, v in ARCHITECTURES.items()},
           **{k: {"description": v["description"], "path": k} for k, v in TRAINED.items()}}
