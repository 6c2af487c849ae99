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

_TOKENIZERS = {"source_vocabulary": 10_000, "target_vocabulary": 8_000}
# The dictionary's 16,000 example sentences are too few to meet most German words: its 313,000
# word and phrase entries (`de_en_lexicon`, training entries only) join them, a fresh 32,000 a
# epoch, split into BPE pieces (a lexicon of compounds and technical terms has no word list
# that fits), with the regularisation Sennrich & Zhang (2019) find low-resource translators need.
_DING_TOKENIZERS = {"kind": "subword", "source_vocabulary": 8_000, "target_vocabulary": 6_000}
_DING_LEXICON = {"data": "de_en_lexicon", "pairs_per_epoch": 32_000}

_RECIPE = {"epochs": 20, "batch_size": 64, "learning_rate": 2e-3, "weight_decay": 1e-4, "clipnorm": 1.0,
           "seed": 2014}
# Three times the sentences' batches an epoch (the lexicon): 15 epochs of batches of 128 take about an hour.
_DING_RECIPE = {**_RECIPE, "epochs": 15, "batch_size": 128, "label_smoothing": 0.1}
# The verses are three times as long as the dictionary's examples and half again as many:
# 10 epochs there are more tokens than 20 here, and fit the 90-minute budget on 2 cores.
_BIBLE_RECIPE = {**_RECIPE, "epochs": 10}

TRAINED = {
    "de_en_attention": {
        "description": "seq2seq_attention trained on the Ding dictionary's German-English example sentences.",
        "architecture": "seq2seq_attention", "data": "de_en", "tokenizers": _DING_TOKENIZERS,
        "lexicon": _DING_LEXICON, "config": {"dropout": 0.3},
        "max_source_length": 48, "max_target_length": 48, "recipe": _DING_RECIPE,
    },
    "de_en_seq2seq": {
        "description": "seq2seq (no attention) on the same German-English pairs and budget, for comparison.",
        "architecture": "seq2seq", "data": "de_en", "tokenizers": _DING_TOKENIZERS,
        "lexicon": _DING_LEXICON, "config": {"dropout": 0.3},
        "max_source_length": 48, "max_target_length": 48, "recipe": _DING_RECIPE,
    },
    "es_en_attention": {
        "description": "seq2seq_attention trained on Spanish-English Bible verses (Reina-Valera 1909, World "
                       "English Bible).",
        "architecture": "seq2seq_attention", "data": "es_en", "tokenizers": _TOKENIZERS,
        "max_source_length": 96, "max_target_length": 96, "recipe": _BIBLE_RECIPE,
    },
    "es_en_seq2seq": {
        "description": "seq2seq (no attention) on the same Spanish-English verses and budget, for comparison.",
        "architecture": "seq2seq", "data": "es_en", "tokenizers": _TOKENIZERS,
        "max_source_length": 96, "max_target_length": 96, "recipe": _BIBLE_RECIPE,
    },
}
