"""On-device translator: sentences in, translations out; encoder once, decoder step by step, beam search in numpy."""

import numpy as np

from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.runtime.base import EdgeStepModel


class EdgeTranslator(EdgeStepModel):
    """An exported `Translator`: `encode(source)` once per sentence, then `decode_step(token, state,
    memory)` per output word, driven by the same decoding loops (`deepedge.ops.decoding`) as in Keras.

    The tokenizers travel in `model.json`; so do the state (`h`, `c`) and the encoder outputs the
    decoder reads at every step (`memory`, `keys`, `mask_bias` with attention).
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

    def encode(self, text):
        """`(step, state)` for one sentence: `step(token, state) -> (logits, state)` runs `decode_step`."""
        from deepedge.tokenizers import encode_sentences

        source = encode_sentences(self.source_tokenizer, text, self.max_source_length)
        outputs = self.run("encode", source=source)
        state = {name: outputs.pop(name) for name in ("h", "c")}
        memory = outputs
        self.last_attention = []

        def step(token, state):
            self.steps_run += 1
            result = self.run("decode_step", token=np.array([token], np.int32), **state, **memory)
            if "attention" in result:
                self.last_attention.append(result["attention"][0])
            return result["logits"].reshape(-1), {"h": result["h"], "c": result["c"]}

        return step, state

    def translate(self, texts, beam_width=None, length_penalty=1.0, max_tokens=None):
        """Translations of one sentence or a list: greedy, or beam search with `beam_width`."""
        from deepedge.ops.decoding import translate_ids

        single = isinstance(texts, str)
        if not single and not isinstance(texts, (list, tuple)):
            raise InvalidInputError(f"Expected a sentence or a list of sentences. Received: {type(texts).__name__}.")
        out = []
        for text in [texts] if single else texts:
            step, state = self.encode(text)
            ids = translate_ids(step, state, self.target_tokenizer.end_id, max_tokens or self.max_target_length,
                                beam_width, length_penalty, banned=(self.target_tokenizer.unknown_id,))
            out.append(self.target_tokenizer.decode(ids))
        return out[0] if single else out

    def evaluate_metric(self, data, beam_width=None):
        """Corpus BLEU (sacrebleu) of the translations of `data` (a `ParallelCorpus`)."""
        from deepedge.ops.bleu import corpus_bleu

        return corpus_bleu(self.translate(list(data.sources), beam_width), list(data.targets))
