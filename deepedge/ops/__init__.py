"""numpy-only operations shared by the on-device runtime, the exporter, the data loaders and
the Keras tasks: audio framing and log-mel features, CTC decoding and error rates, the
character language model, text decoding loops, dense-prediction tiling and IoU, keyword
decisions, image standardisation. Nothing here imports TensorFlow, Keras or LiteRT.
"""
