"""`EdgeEncoderDecoder`: the on-device side of an encoder-decoder export (translator, captioner).

`encode(input) -> h, c (, memory...)` runs once per input; `decode_step(token, h, c (, memory...))
-> logits, h, c (, attention)` runs `decoder_rows` rows at once. `start` is the contract of
`deepedge.ops.decoding.decode_batched`, the loop Keras and the device share.
"""

import numpy as np

from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.runtime.base import EdgeStepModel


class EdgeEncoderDecoder(EdgeStepModel):
    """An exported encoder-decoder. Subclasses set `encoder_input`, the `encode` signature's input."""

    encoder_input = None

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        if not {"decode_step", "encode"} <= set(self.signatures) or any(
                name not in ("decode_step", "encode") and not name.startswith("encode_") for name in self.signatures):
            raise ModelFileError(f"{self.json_path}: a {self.task_name} model has `encode` and `decode_step` "
                                 f"signatures (and shorter `encode_N` ones). Received: {sorted(self.signatures)}. "
                                 f"Export again.")
        if "token" not in self._input_specs["decode_step"] or "logits" not in self._output_specs["decode_step"]:
            raise ModelFileError(f"{self.json_path}: the `decode_step` signature of a {self.task_name} model takes "
                                 f"`token` and gives `logits`. Export again.")
        self.decoder_rows = int(self._input_specs["decode_step"]["token"]["shape"][0])  # hypotheses or inputs a step

    def _decoder_logits(self):
        """The spec of `decode_step`'s `logits` output (one per target token)."""
        return self._output_specs["decode_step"]["logits"]

    @property
    def last_attention(self):
        """The attention weights of each step of this thread's last decode, `(rows, places)` each."""
        return getattr(self._local, "attention", [])

    def start(self, inputs, rows):
        """`(step, state)` decoding `inputs` (at most `decoder_rows`) side by side: `encode` once
        per input, then `step(tokens (rows,), state) -> (logits, state)` runs `decode_step` on all
        rows. The encoder outputs are checked, quantized and set once, not per step."""
        if rows != self.decoder_rows or len(inputs) > rows:
            raise InvalidInputError(f"This decoder steps {self.decoder_rows} rows at once. Received: {rows} rows "
                                    f"for {len(inputs)} input(s).")
        encoded = [self.encode_one(item) for item in inputs]
        encoded += [encoded[-1]] * (rows - len(encoded))
        stacked = {name: np.concatenate([e[name] for e in encoded]) for name in encoded[0]}
        state = {name: stacked.pop(name) for name in ("h", "c")}
        decode_step = self.bind("decode_step", **stacked)  # the memory is set once, not every step
        attention = self._local.attention = []

        def step(tokens, state):
            self._count_step()
            result = decode_step(token=np.asarray(tokens, np.int32), **state)
            if "attention" in result:
                attention.append(result["attention"])
            return result["logits"], {"h": result["h"], "c": result["c"]}

        return step, state

    def encode_one(self, item):
        """The `encode` outputs for one input (without its batch axis)."""
        return self.run("encode", **{self.encoder_input: item[None]})


__all__ = ["EdgeEncoderDecoder"]
