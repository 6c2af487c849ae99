"""Speech presets: plain data.

An architecture preset (`dscnn_s`, `dscnn_xs`) builds an untrained keyword spotter; a
trained preset (`kws_dscnn`) loads the shipped model from `saved_models/` and carries the
recipe that retrains it (`deepedge train kws_dscnn`).
"""

_FRONTEND = {"frame_length": 512, "frame_step": 320, "num_mels": 40}
_SPEC_AUGMENT = {"freq_masks": 2, "max_freq_width": 6, "time_masks": 2, "max_time_width": 6}

KWS_ARCHITECTURES = {
    "dscnn_s": {
        "description": "DS-CNN-S of Hello Edge (Zhang et al. 2017): a 10x4 stride-2 convolution and four "
                       "depthwise-separable blocks of 64 channels over 49x40 log-mel features, ~25k parameters.",
        "frontend": _FRONTEND,
        "backbone": {"filters": 64, "blocks": 4},
        "spec_augment": _SPEC_AUGMENT,
    },
    "dscnn_m": {
        "description": "A wider DS-CNN (80 channels, four blocks), ~37k parameters.",
        "frontend": _FRONTEND,
        "backbone": {"filters": 80, "blocks": 4},
        "spec_augment": _SPEC_AUGMENT,
    },
    "dscnn_xs": {
        "description": "A narrower DS-CNN (32 channels, three blocks), ~7k parameters, for the smallest devices.",
        "frontend": _FRONTEND,
        "backbone": {"filters": 32, "blocks": 3},
        "spec_augment": _SPEC_AUGMENT,
    },
}

KWS_ARCHITECTURES["dscnn_m_warp"] = {
    **KWS_ARCHITECTURES["dscnn_m"],
    "description": "dscnn_m trained with band warping (a vocal tract length change of up to 12%) and random "
                   "spectral tilt in SpecAugment, for voices and microphones unlike the synthetic ones.",
    "spec_augment": {**_SPEC_AUGMENT, "band_warp": 0.12, "tilt": 0.5},
}

KWS_ARCHITECTURES["dscnn_m_warp_cmn"] = {
    **KWS_ARCHITECTURES["dscnn_m_warp"],
    "description": "dscnn_m_warp with each clip's mean log-mel spectrum subtracted (cepstral mean normalisation), "
                   "so a microphone's or a telephone line's colouring cancels out.",
    "frontend": {**_FRONTEND, "utterance_norm": True},
}

KWS_TRAINED = {
    "kws_dscnn": {
        "description": "The 80-channel DS-CNN trained on the 20 Speech Commands core words, _silence_ and "
                       "_unknown_, spoken by espeak-ng and flite voices with room, noise and telephone augmentation, "
                       "band warping and spectral tilt, and by Kokoro-82M's neural voices (a fifth of the "
                       "utterances); each clip's mean spectrum subtracted in the front end.",
        "architecture": "dscnn_m_warp_cmn",
        "data": "keywords",
        "recipe": {"epochs": 50, "batch_size": 64, "learning_rate": 3e-3, "weight_decay": 1e-4,
                   "per_keyword": 400, "neural_per_keyword": 100, "seed": 2017, "target_false_accepts": 5.0,
                   "noise_probability": 0.7, "snr_db": [3.0, 30.0]},
    },
}

ASR_ARCHITECTURES = {
    "ctc_lstm": {
        "description": "A causal convolution over 40 log-mel bands (20 ms steps) and two unidirectional LSTMs "
                       "of 160 units, CTC over 28 characters; streams in 160 ms chunks.",
        "config": {"frontend": _FRONTEND, "conv_filters": 128, "lstm_units": [160, 160], "dropout": 0.1,
                   "chunk_frames": 8, "time_stride": 1,
                   "spec_augment": {"freq_masks": 2, "max_freq_width": 6, "time_masks": 2, "max_time_width": 8}},
    },
    "ctc_lstm3": {
        "description": "A causal stride-2 convolution over 40 log-mel bands (16 ms frames, 32 ms steps) and three "
                       "unidirectional LSTMs of 256 units, CTC over 28 characters; streams in 128 ms chunks. Cell "
                       "states bounded at 4 in the exported step.",
        "config": {"frontend": {"frame_length": 512, "frame_step": 256, "num_mels": 40}, "conv_filters": 128,
                   "lstm_units": [256, 256, 256], "dropout": 0.1, "chunk_frames": 8, "time_stride": 2, "cell_clip": 4.0,
                   "spec_augment": {"freq_masks": 2, "max_freq_width": 6, "time_masks": 2, "max_time_width": 8}},
    },
}

ASR_TRAINED = {
    "asr_ctc": {
        "description": "The CTC LSTM recogniser trained on Jane Austen sentences spoken by espeak-ng and flite "
                       "voices and by Kokoro-82M's neural voices, with room, noise and telephone augmentation.",
        "architecture": "ctc_lstm3",
        "data": "sentences",
        "recipe": {"epochs": 36, "batch_size": 32, "learning_rate": 2e-3, "weight_decay": 1e-4,
                   "max_seconds": 2.88, "sentences": 6000, "seed": 2014,
                   "fine_tune": {"epochs": 10, "learning_rate": 5e-4, "neural_sentences": 1200}},
    },
}

KWS_PRESETS = {**{k: {"description": v["description"]} for k, v in KWS_ARCHITECTURES.items()},
               **{k: {"description": v["description"], "path": k} for k, v in KWS_TRAINED.items()}}
