"""On-device translator: sentences in, translations out; encoder once, decoder step by step, beam search in numpy."""

import numpy as np

from deepedge.runtime.encoder_decoder import EdgeEncoderDecoder


class EdgeTranslator(EdgeEncoderDecoder):
    """An exported `Translator`: `encode(source)` once per sentence, then `decode_step(token, state,
    memory)` per output word, driven by the same decoding loops (`deepedge.ops.decoding`) as in Keras.

    The tokenizers travel in `model.json`; so do the state (`h`, `c`) and the encoder outputs the
    decoder reads at every step (`memory`, `keys`, `source_mask` with attention).
    """

    task_name = "translation"
    encoder_input = "source"
    metadata_fields = {"source_tokenizer": "object", "target_tokenizer": "object", "max_source_length": "count",
                       "max_target_length": "count"}

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.source_tokenizer = self._tokenizer("source_tokenizer")
        self.target_tokenizer = self._tokenizer("target_tokenizer")
        self._check_classes("target tokens", self.target_tokenizer.vocabulary_size, self._decoder_logits())
        self.max_source_length = int(self.metadata["max_source_length"])
        self.max_target_length = int(self.metadata["max_target_length"])
        # shorter encoders (`encode_16`): (steps, signature), shortest first
        self.short_encoders = sorted((int(name.rsplit("_", 1)[1]), name) for name in self.signatures
                                     if name.startswith("encode_"))

    def encode_one(self, source):
        """`encode` for one sentence of ids, by the shortest encoder that holds it; a short
        encoder's memory is padded to `max_source_length` with masked positions."""
        ends = np.flatnonzero(np.asarray(source) == self.source_tokenizer.end_id)
        length = int(ends[0]) + 1 if len(ends) else len(source)  # words and the end token
        for steps, name in self.short_encoders:
            if length <= steps:
                outputs = self.run(name, source=source[None, :steps])
                pad = self.max_source_length - steps
                for key in ("memory", "keys", "source_mask"):
                    value = outputs[key]
                    outputs[key] = np.pad(value, [(0, 0), (0, pad)] + [(0, 0)] * (value.ndim - 2))
                return outputs
        return super().encode_one(source)

    def translate(self, texts, beam_width=None, length_penalty=1.0, max_tokens=None, on_sentence=None):
        """Translations of one sentence or a list: greedy (`decoder_rows` sentences side by side),
        or beam search with `beam_width` up to `decoder_rows`. After a greedy call on one
        sentence, `last_attention` holds its attention weights, one `(rows, source length)` per step."""
        from deepedge.ops.decoding import translate_texts

        return translate_texts(self, texts, beam_width, length_penalty, max_tokens, on_sentence)

    def evaluate_metric(self, data, beam_width=None):
        """Corpus BLEU (sacrebleu) of the translations of `data` (a `ParallelCorpus`)."""
        from deepedge.ops.bleu import corpus_bleu

        return corpus_bleu(self.translate(list(data.sources), beam_width), list(data.targets))
