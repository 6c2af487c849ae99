"""Scene labelling presets: plain data.

An architecture preset (`multiscale`, `encoder_decoder`) builds an untrained model; a
trained preset (`scenes_labeller`, `nuclei_labeller`) loads the shipped model from
`saved_models/` and carries the recipe that retrains it (`deepedge train NAME`).
"""

ARCHITECTURES = {
    "multiscale": {
        "description": "Farabet et al. (2013): one ConvNet with shared weights over a 3-level image pyramid, "
                       "features upsampled and concatenated, labels upsampled from 1/4 resolution.",
        "backbone": "multiscale",
        "backbone_config": {"filters": (16, 32, 64), "scales": 3, "hidden": 64, "batch_norm_momentum": 0.9},
        "export_size": 128,
    },
    "multiscale_refined": {
        "description": "The multiscale ConvNet plus a full-resolution refinement: its coarse features meet a 3x3 "
                       "view of the image at full size, for sharp object boundaries.",
        "backbone": "multiscale",
        "backbone_config": {"filters": (16, 32, 64), "scales": 3, "hidden": 64, "refine_filters": 24,
                            "batch_norm_momentum": 0.9},
        "export_size": 128,
    },
    "encoder_decoder": {
        "description": "A compact U-Net-shaped encoder-decoder of depthwise-separable blocks, four levels "
                       "down to 1/16, skip connections back to full resolution.",
        "backbone": "encoder_decoder",
        "backbone_config": {"stem_filters": 16, "encoder_filters": (32, 64, 96, 128),
                            "decoder_filters": (96, 64, 32, 16), "batch_norm_levels": 0},
        "export_size": 128,
    },
    "encoder_decoder_refined": {
        "description": "An encoder-decoder of plain 3x3 convolutions at half resolution (a stride-2 stem, three "
                       "levels down to 1/16, skip connections back to 1/2), refined at full resolution by a 3x3 "
                       "view of the image: depth for recognising objects, the refinement for their edges.",
        "backbone": "encoder_decoder",
        "backbone_config": {"stem_filters": 24, "encoder_filters": (48, 96, 160), "decoder_filters": (96, 48, 32),
                            "block": "conv", "stem_strides": 2, "refine_filters": 24, "batch_norm_momentum": 0.9},
        "export_size": 128,
    },
}

TRAINED = {
    "scenes_labeller": {
        "description": "The half-resolution encoder-decoder with full-resolution refinement, trained on composed "
                       "scenes (textures + Fashion-MNIST + MNIST), 128x128.",
        "architecture": "encoder_decoder_refined",
        "data": "scenes",
        "metric": "mean_iou",
        "recipe": {"epochs": 32, "scenes_per_epoch": 4000, "scene_size": 128, "batch_size": 16,
                   "learning_rate": 2e-3, "weight_decay": 1e-4, "class_weight_power": 0.5, "seed": 2013},
    },
    "scenes_multiscale_refined": {
        "description": "The refined multiscale ConvNet trained on composed scenes (the scenes labeller shipped "
                       "before the encoder-decoder), for comparison.",
        "architecture": "multiscale_refined",
        "data": "scenes",
        "metric": "mean_iou",
        "recipe": {"epochs": 24, "scenes_per_epoch": 4000, "scene_size": 128, "batch_size": 16,
                   "learning_rate": 2e-3, "weight_decay": 1e-4, "class_weight_power": 0.5, "seed": 2013},
    },
    "scenes_multiscale": {
        "description": "The multiscale ConvNet (Farabet et al.) trained on composed scenes, for comparison.",
        "architecture": "multiscale",
        "data": "scenes",
        "metric": "mean_iou",
        "recipe": {"epochs": 25, "scenes_per_epoch": 4000, "scene_size": 128, "batch_size": 16,
                   "learning_rate": 2e-3, "weight_decay": 1e-4, "class_weight_power": 0.5, "seed": 2013},
    },
    "nuclei_labeller": {
        "description": "The refined multiscale ConvNet trained on the stardist nuclei image (rows 0-319), nucleus "
                       "vs background.",
        "architecture": "multiscale_refined",
        "data": "nuclei",
        "metric": "foreground_iou",
        "recipe": {"epochs": 40, "tiles_per_epoch": 512, "tile": 128, "batch_size": 16,
                   "learning_rate": 2e-3, "weight_decay": 1e-4, "seed": 2018},
    },
}

PRESETS = {**{k: {"description": v["description"]} for k, v in ARCHITECTURES.items()},
           **{k: {"description": v["description"], "path": k} for k, v in TRAINED.items()}}
