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
# Tried for de_en (2026-12-03) and not shipped: the dictionary's 313,000 word and phrase entries
# (`de_en_lexicon`, training entries only) beside the 16,000 example sentences, a fresh 32,000 a
# epoch, BPE pieces, dropout 0.3 and label smoothing (Sennrich & Zhang 2019). 15 epochs, 48 min:
# test BLEU float greedy / beam 4 4.63 / 5.65, against 4.87 / 5.86 for the shipped word-level
# recipe (`_RECIPE`). A recipe with `"lexicon": _DING_LEXICON` and `"tokenizers": _DING_TOKENIZERS` takes them.
# Also tried (2026-12-05), sentences only: BPE 4,000/4,000, dropout 0.35, label smoothing 0.1,
# maximum length 64, 20 epochs (7.8 min alone on 2 cores): test BLEU greedy / beam 4 4.39 / 5.77.
_DING_TOKENIZERS = {"kind": "subword", "source_vocabulary": 8_000, "target_vocabulary": 6_000}
_DING_LEXICON = {"data": "de_en_lexicon", "pairs_per_epoch": 32_000}

_RECIPE = {"epochs": 20, "batch_size": 64, "learning_rate": 2e-3, "weight_decay": 1e-4, "clipnorm": 1.0,
           "seed": 2014}
# For the lexicon recipe: three times the sentences' batches an epoch, 15 epochs of 128 take 48 minutes.
_DING_RECIPE = {**_RECIPE, "epochs": 15, "batch_size": 128, "label_smoothing": 0.1}
# The verses are three times as long as the dictionary's examples and half again as many:
# 10 epochs there are more tokens than 20 here, and fit the 90-minute budget on 2 cores.
_BIBLE_RECIPE = {**_RECIPE, "epochs": 10}

TRAINED = {
    "de_en_attention": {
        "description": "seq2seq_attention trained on the Ding dictionary's German-English example sentences.",
        "architecture": "seq2seq_attention", "data": "de_en", "tokenizers": _TOKENIZERS,
        "max_source_length": 48, "max_target_length": 48, "recipe": _RECIPE,
    },
    "de_en_seq2seq": {
        "description": "seq2seq (no attention) on the same German-English pairs and budget, for comparison.",
        "architecture": "seq2seq", "data": "de_en", "tokenizers": _TOKENIZERS,
        "max_source_length": 48, "max_target_length": 48, "recipe": _RECIPE,
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
