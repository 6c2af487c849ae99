"""Translation presets: plain data.

`seq2seq` is Sutskever et al. (2014): one LSTM reads the source reversed into a fixed-size
state, another writes the translation from it. `seq2seq_attention` is Bahdanau et al. (2015):
a bidirectional encoder keeps a vector for every source position, and an additive attention
lets every output word look back at all of them.
"""

ARCHITECTURES = {
    "seq2seq": {
        "description": "Encoder-decoder LSTM (Sutskever et al. 2014): the source read reversed into one state.",
        "config": {"embedding_dim": 128, "units": 256, "attention": False, "dropout": 0.2},
    },
    "seq2seq_attention": {
        "description": "Bidirectional LSTM encoder and an LSTM decoder with additive attention over every "
                       "source position (Bahdanau et al. 2015).",
        "config": {"embedding_dim": 128, "units": 256, "attention": True, "attention_units": 128, "dropout": 0.2},
    },
}

TRAINED = {}
