"""The count-based baseline the neural translators are measured against: word for word.

Each source word is replaced by the target word it co-occurs with most, by the Dice
coefficient over the training pairs (`2 * pairs with both / (pairs with the source word +
pairs with the target word)`, Smadja et al. 1996), the simplest statistical lexicon. Words
whose best partner scores below `min_dice` (articles, particles) are dropped, words the
source vocabulary does not know (names, numbers) are copied. No reordering, no agreement:
what is left of BLEU is what a bilingual dictionary alone buys.

`from_corpora` counts with its own word tokenizers (10,000 German or Spanish words and 8,000
English ones by default, the word-level translators' vocabularies), over the training pairs
and, when given, a lexicon's word pairs too (for German, the Ding dictionary's own entries:
the issue's "word-for-word lookup in the dictionary itself").
"""

import numpy as np

from deepedge.errors import InvalidInputError


class WordForWordTranslator:
    """A word-for-word translator learned by counting (see the module docstring).

    Args:
        source_tokenizer, target_tokenizer: the translator's `WordTokenizer`s.
        table: int array `(source vocabulary,)`: the target id for each source id, -1 for none.
    """

    def __init__(self, source_tokenizer, target_tokenizer, table):
        table = np.asarray(table, np.int64)
        if table.shape != (source_tokenizer.vocabulary_size,):
            raise InvalidInputError(f"The table needs one entry per source word ({source_tokenizer.vocabulary_size}). "
                                    f"Received: shape={table.shape}.")
        self.source_tokenizer, self.target_tokenizer, self.table = source_tokenizer, target_tokenizer, table

    @classmethod
    def fit(cls, source_tokenizer, target_tokenizer, corpus, min_dice=0.1):
        """Learns the table from the pairs of `corpus` (a `ParallelCorpus`, the training split)."""
        sources = [np.unique(source_tokenizer.encode(s)) for s in corpus.sources]
        targets = [np.unique(target_tokenizer.encode(t)) for t in corpus.targets]
        source_size, target_size = source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size
        source_counts = np.bincount(np.concatenate(sources), minlength=source_size)
        target_counts = np.bincount(np.concatenate(targets), minlength=target_size)
        codes = np.concatenate([(s[:, None] * target_size + t[None, :]).ravel() for s, t in zip(sources, targets)])
        codes, both = np.unique(codes, return_counts=True)
        s, t = codes // target_size, codes % target_size
        dice = 2.0 * both / (source_counts[s] + target_counts[t])
        keep = (s > 1) & (t > 1) & (dice >= min_dice)  # never the unknown or end tokens
        s, t, dice = s[keep], t[keep], dice[keep]
        order = np.lexsort((-dice, s))  # by source word, best partner first
        s, t = s[order], t[order]
        first = np.ones(len(s), bool)
        first[1:] = s[1:] != s[:-1]
        table = np.full(source_size, -1, np.int64)
        table[s[first]] = t[first]
        return cls(source_tokenizer, target_tokenizer, table)

    @classmethod
    def from_corpora(cls, corpus, lexicon=None, source_vocabulary=10_000, target_vocabulary=8_000, min_dice=0.1):
        """Word tokenizers and the table learned from `corpus` (the training split) and `lexicon`
        (another `ParallelCorpus` of word and phrase pairs, or None)."""
        import dataclasses

        from deepedge.tokenizers import WordTokenizer

        if lexicon is not None:
            corpus = dataclasses.replace(corpus, sources=corpus.sources + lexicon.sources,
                                         targets=corpus.targets + lexicon.targets,
                                         groups=corpus.groups + lexicon.groups)
        source_tokenizer = WordTokenizer.from_texts(corpus.sources, max_vocabulary=source_vocabulary)
        target_tokenizer = WordTokenizer.from_texts(corpus.targets, max_vocabulary=target_vocabulary, lowercase=False)
        return cls.fit(source_tokenizer, target_tokenizer, corpus, min_dice=min_dice)

    def translate(self, texts, beam_width=None, on_sentence=None):
        """Word-for-word translations of one sentence or a list (`beam_width` is ignored)."""
        single = isinstance(texts, str)
        if not single and not isinstance(texts, (list, tuple)):
            raise InvalidInputError(f"Expected a sentence or a list of sentences. Received: {type(texts).__name__}.")
        out = []
        for text in [texts] if single else texts:
            words = []
            for token in self.source_tokenizer.split(text):
                token_id = self.source_tokenizer.token_to_id(token)
                if token_id == self.source_tokenizer.unknown_id:
                    words.append(token)  # a name or number the lexicon never saw: copied
                elif self.table[token_id] >= 0:
                    words.append(self.target_tokenizer.id_to_token(self.table[token_id]))
            out.append(self.target_tokenizer.detokenize(words))
            if on_sentence:
                on_sentence(1)
        return out[0] if single else out


__all__ = ["WordForWordTranslator"]
