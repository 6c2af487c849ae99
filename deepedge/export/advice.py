"""What to do when a layer does not convert to LiteRT builtins: per TensorFlow op, the builtin
alternative, the float fallback, or the step-wise export (plain strings; no TensorFlow).

`deepedge.export.convert` appends this advice to its `ConversionError`s and `deepedge doctor`
(`deepedge.export.doctor`) to the problems it lists before any conversion.
"""

STEPWISE = ("export one step with explicit state, as deepedge's recurrent families do: a batch-1 step model "
            "`[x_t, h, c] -> [y_t, h, c]` that reuses the trained cell (`lstm.cell(x_t, [h, c])`), converted by "
            "`deepedge.export.convert_signatures`, with the loop in the runtime (`StepwiseExportMixin` in "
            "deepedge/apps/task.py, the LSTM language model in deepedge/apps/language_modelling/ and the decoders in "
            "deepedge/apps/encoder_decoder.py; the README's 'Your own Keras model' section)")

RECURRENT = ("A recurrent layer over a whole sequence converts to a WHILE loop whose int8 calibration crashes the "
             "converter (a segfault on TensorFlow 2.21). Rebuild the layer with `unroll=True` over a fixed "
             "sequence length (builtin FULLY_CONNECTED/LOGISTIC/TANH ops; the file grows with the length), or "
             + STEPWISE + ".")

TEXT = ("Text preprocessing (string splitting, lookup tables, hashing) has no builtin kernel: tokenise outside the "
        "model (`deepedge.tokenizers`, whose config travels in model.json) and give the model integer token ids.")

SIGNAL = ("For a spectrogram use `keras.layers.MelSpectrogram` (builtin RFFT2D) and keep it in float inside the int8 "
          "model with `float_layers=[its name]`.")

ERF = ("`erf` (an exact GELU written by hand) has no builtin kernel: use `keras.activations.gelu` (it converts to "
       "the builtin GELU) or `keras.ops.tanh` approximations.")

LINEAR_ALGEBRA = ("Matrix decompositions and determinants have no builtin kernel: compute them outside the model, or "
                  "write the small fixed-size case with keras.ops matmul, add and multiply.")

PATCHES = "Image patches: use a Conv2D with a fixed identity kernel, or reshapes and transposes, instead."

GENERIC = ("Rewrite the layer with keras.ops that map to LiteRT builtins (see "
           "https://ai.google.dev/edge/litert/models/ops_compatibility), or compute it outside the model.")

FLOAT_FALLBACK = ("If a layer loses accuracy in int8, keep it in float32 with `float_layers=[its name]` "
                  "(the model's inputs and outputs then stay float32; the card records it).")

# (op name prefixes, advice), first match wins
_BY_OP = (
    (("TensorList", "While"), RECURRENT),
    (("String", "StaticRegex", "RegexReplace", "RaggedTensor", "AsString", "LookupTable", "HashTable", "Unicode",
      "Substr", "InitializeTable"), TEXT),
    (("RFFT", "IRFFT", "FFT", "IFFT", "ComplexAbs", "Complex", "Angle", "Imag", "Real"), SIGNAL),
    (("Erf",), ERF),
    (("Matrix", "Svd", "Qr", "Cholesky", "SelfAdjointEig", "LogMatrixDeterminant"), LINEAR_ALGEBRA),
    (("ExtractImagePatches",), PATCHES),
)


def advice_for(ops):
    """The distinct pieces of advice for a list of TensorFlow op names, in a stable order."""
    found = []
    for op in sorted(ops):
        advice = next((text for prefixes, text in _BY_OP if op.startswith(prefixes)), GENERIC)
        if advice not in found:
            found.append(advice)
    return found


__all__ = ["FLOAT_FALLBACK", "RECURRENT", "STEPWISE", "TEXT", "advice_for"]
