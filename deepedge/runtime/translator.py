"""On-device translator: sentences in, translations out; encoder once, decoder step by step, beam search in numpy."""

import numpy as np

from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.runtime.base import EdgeStepModel


class EdgeTranslator(EdgeStepModel):
    """An exported `Translator`: `encode(source)` once per sentence, then `decode_step(token, state,
    memory)` per output word, driven by the same decoding loops (`deepedge.ops.decoding`) as in Keras.

    The tokenizers travel in `model.json`; so do the state (`h`, `c`) and the encoder outputs the
    decoder reads at every step (`memory`, `keys`, `source_mask` with attention).
    """

    task_name = "translation"

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        from deepedge.tokenizers import Tokenizer

        if sorted(self.signatures) != ["decode_step", "encode"]:
            raise ModelFileError(f"{self.json_path}: a translator has `encode` and `decode_step` signatures. "
                                 f"Received: {sorted(self.signatures)}. Export again.")
        self.source_tokenizer = Tokenizer.from_config(self.metadata["source_tokenizer"])
        self.target_tokenizer = Tokenizer.from_config(self.metadata["target_tokenizer"])
        self.max_source_length = int(self.metadata["max_source_length"])
        self.max_target_length = int(self.metadata["max_target_length"])
        self.steps_run = 0
        token_spec = self._input_specs["decode_step"]["token"]
        self.decoder_rows = int(token_spec["shape"][0])  # beam hypotheses (or sentences) a step decodes
        self.last_attention = []

    def start(self, source_ids, rows):
        """`(step, state)` decoding the sentences `source_ids` (at most `decoder_rows`) side by side:
        `encode` once per sentence, then `step(tokens (rows,), state) -> (logits, state)` runs
        `decode_step` on all rows. The encoder outputs are checked and quantized once, not per step."""
        if rows != self.decoder_rows or len(source_ids) > rows:
            raise InvalidInputError(f"This decoder steps {self.decoder_rows} rows at once. Received: {rows} rows "
                                    f"for {len(source_ids)} sentence(s).")
        encoded = [self.run("encode", source=ids[None]) for ids in np.asarray(source_ids, np.int32)]
        encoded += [encoded[-1]] * (rows - len(encoded))
        stacked = {name: np.concatenate([e[name] for e in encoded]) for name in encoded[0]}
        state = {name: stacked.pop(name) for name in ("h", "c")}
        memory = self.prepare("decode_step", **stacked)
        self.last_attention = []

        def step(tokens, state):
            self.steps_run += 1
            result = self.run("decode_step", prepared=memory, token=np.asarray(tokens, np.int32), **state)
            if "attention" in result:
                self.last_attention.append(result["attention"])
            return result["logits"], {"h": result["h"], "c": result["c"]}

        return step, state

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
