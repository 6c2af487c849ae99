"""On-device translator: sentences in, translations out; encoder once, decoder step by step, beam search in numpy."""

import numpy as np

from deepedge.errors import ModelFileError
from deepedge.ops.sources import SOURCE_FEEDS, source_feeds, source_length
from deepedge.runtime.encoder_decoder import EdgeEncoderDecoder
from deepedge.runtime.metadata_checks import REEXPORT


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
        # the decoder's inputs from the encoder (memory, keys), and those the runtime computes (source_mask)
        self._memory_names = [n for n in self._taken["decode_step"] if n not in ("token", "h", "c")]
        self._computed_memory = [n for n in self._memory_names if n not in self._output_specs["encode"]]
        reads = {n for name in self.signatures if name.startswith("encode") for n in self._taken[name]}
        unknown = sorted((reads | set(self._computed_memory)) - set(SOURCE_FEEDS))
        if unknown:
            raise ModelFileError(f"{self.json_path}: the translator's encoder reads {unknown}, which this runtime "
                                 f"does not compute from a sentence (it makes {list(SOURCE_FEEDS)}). {REEXPORT}")

    def encode_one(self, source):
        """The decoder's inputs from one sentence of ids: `encode` by the shortest encoder that
        holds it (a short encoder's memory padded to `max_source_length` with masked
        positions), and what the runtime computes from the ids itself (`source_mask`; see
        `deepedge.ops.sources`, which also makes the encoder's other inputs)."""
        end_id = self.source_tokenizer.end_id
        length = source_length(source, end_id)  # words and the end token
        name, steps = "encode", self.max_source_length
        for short_steps, short_name in self.short_encoders:
            if length <= short_steps:
                name, steps = short_name, short_steps
                break
        feeds = source_feeds(source[:steps], end_id, self._taken[name])
        outputs = self.run(name, **feeds)
        if steps < self.max_source_length:
            for key in self._memory_names:
                if key in outputs:  # per source position: memory, keys (and the mask of older exports)
                    value = outputs[key]
                    outputs[key] = np.pad(value, [(0, 0), (0, self.max_source_length - steps)]
                                          + [(0, 0)] * (value.ndim - 2))
        return outputs | source_feeds(source, end_id, self._computed_memory)

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
