"""Language-model architectures and the recipes that train the shipped models."""

ARCHITECTURES = {
    "lstm_word": {"class": "LSTMLanguageModel",
                  "config": {"embedding_dim": 256, "lstm_units": [1024], "dropout": 0.4, "tie_weights": True},
                  "description": "word LSTM: embedding 256, LSTM 1024, projection to 256, tied softmax"},
    "lstm_char": {"class": "LSTMLanguageModel",
                  "config": {"embedding_dim": 128, "lstm_units": [768], "dropout": 0.2, "tie_weights": True},
                  "description": "character LSTM: embedding 128, LSTM 768, tied softmax"},
    "nplm": {"class": "NPLM",
             "config": {"context_size": 4, "embedding_dim": 128, "hidden_units": 512, "direct_connections": False,
                        "dropout": 0.25},
             "description": "Bengio et al. 2003: 4 previous words x 128, tanh 512, softmax"},
}

TRAINED = {
    "austen_lstm_word": {
        "architecture": "lstm_word", "data": "austen",
        "tokenizer": {"kind": "word", "max_vocabulary": 10_000},
        "recipe": {"epochs": 30, "batch_size": 64, "sequence_length": 64, "learning_rate": 2e-3,
                   "weight_decay": 0.05, "clipnorm": 1.0, "seed": 2001, "precision": "mixed_bfloat16"},
        # `deepedge train austen_lstm_word --quantization-aware`: one epoch at a tenth of the rate
        # took its int8 perplexity from 61.23 (post-training) to 60.52 (benchmarks/results/qat.md).
        "quantization_aware": {"epochs": 1, "learning_rate": 2e-4, "float_layers": ["embedding"], "seed": 2002},
    },
    "austen_nplm": {
        "architecture": "nplm", "data": "austen",
        "tokenizer": {"kind": "word", "max_vocabulary": 10_000},
        "recipe": {"epochs": 3, "batch_size": 512, "learning_rate": 2e-3, "weight_decay": 0.05,
                   "clipnorm": 1.0, "seed": 2003, "precision": "mixed_bfloat16"},
    },
    "austen_lstm_char": {
        "architecture": "lstm_char", "data": "austen",
        "tokenizer": {"kind": "char", "max_vocabulary": None},
        "recipe": {"epochs": 20, "batch_size": 64, "sequence_length": 128, "learning_rate": 2e-3,
                   "weight_decay": 0.01, "clipnorm": 1.0, "seed": 1997, "precision": "mixed_bfloat16"},
    },
}
