"""On-device language model: perplexity and text generation, the decode loop in numpy."""

import numpy as np

from deepedge.errors import ModelFileError
from deepedge.runtime.base import EdgeStepModel


class EdgeLanguageModel(EdgeStepModel):
    """On-device language model: text in, perplexity and generated text out (LiteRT + numpy only).

    The tokenizer travels in `model.json` and is the same pure-Python code as in training.

    >>> lm = deepedge.edge.load("saved_models/austen_lstm_word")
    >>> lm.generate("It is a truth", max_tokens=30, temperature=0.8, top_k=40, seed=0)
    """

    task_name = "language_model"
    metadata_fields = {"tokenizer": "object"}

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        if "step" not in self.signatures:
            raise ModelFileError(f"{self.json_path}: a language model has a `step` signature. Received: "
                                 f"{sorted(self.signatures)}. Export again.")
        self.tokenizer = self._tokenizer()
        self.step({"token": np.array([self.tokenizer.end_id], np.int32)}, self.initial_state())  # warm-up
        vocab = self.signatures["step"]["outputs"]
        logits = [spec for spec in vocab if spec["name"] == "logits"]
        if not logits or logits[0]["shape"][-1] != self.tokenizer.vocabulary_size:
            raise ModelFileError(f"{self.json_path}: the model's logits do not match its tokenizer's "
                                 f"{self.tokenizer.vocabulary_size} tokens. Export again.")

    def step_fn(self):
        """`step(token, state) -> (logits, state)` for the decoding loops."""

        def step(token, state):
            self._count_step()
            outputs, state = self.step({"token": np.array([token], np.int32)}, state)
            return outputs["logits"].reshape(-1), state

        return step

    def token_nll(self, ids):
        """Negative log-likelihood of each id, segment by segment as the Keras model measures it."""
        from deepedge.ops.decoding import log_softmax, segment_starts

        ids = np.asarray(ids)
        bounds = list(segment_starts(len(ids))) + [len(ids)]
        step = self.step_fn()
        nll = np.empty(len(ids), np.float64)
        for a, b in zip(bounds[:-1], bounds[1:]):
            state, previous = self.initial_state(), self.tokenizer.end_id
            for i in range(a, b):
                logits, state = step(int(previous), state)
                nll[i] = -log_softmax(logits)[ids[i]]
                previous = ids[i]
        return nll

    def perplexity(self, data):
        """exp(mean NLL) over a corpus (`.paragraphs`), a list of paragraphs, a string or ids."""
        from deepedge.ops.decoding import as_token_ids

        return float(np.exp(self.token_nll(as_token_ids(self.tokenizer, data, allow_empty=False)).mean()))

    def evaluate_metric(self, data):
        return self.perplexity(data)

    def generate(self, prompt, max_tokens=50, strategy="sample", temperature=1.0, top_k=None, beam_width=None,
                 seed=None):
        """Continues `prompt` until a paragraph end or `max_tokens` tokens.

        Args:
            strategy: `"sample"` or `"greedy"`. Ignored with `beam_width`.
            temperature, top_k: sampling controls (see `deepedge.ops.decoding.Sampler`).
            beam_width: int. Beam search with this many hypotheses instead of sampling.
            seed: int. Makes sampling reproducible.
        """
        from deepedge.ops.decoding import generate_text

        return generate_text(self.tokenizer, self.step_fn(), self.initial_state(), prompt, max_tokens, strategy,
                             temperature, top_k, beam_width, seed)
