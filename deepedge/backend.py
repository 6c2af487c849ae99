"""Imports Keras on the TensorFlow backend without TensorFlow's start-up log noise.

Import this module before `keras` or `tensorflow`: it sets the environment variables that
TensorFlow reads once, at its own import. The edge runtime never imports this module.
"""

import logging
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# oneDNN's custom ops print a banner at import and make float results depend on thread timing.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")

warnings.filterwarnings("ignore", module="tensorflow")
warnings.filterwarnings("ignore", message=".*TensorFlow Lite interpreter.*")

if os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1":  # training that asked for oneDNN: hide its banner
    from deepedge.quiet import native_output_silenced

    with native_output_silenced():
        import tensorflow as tf
else:
    import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel(logging.ERROR)
logging.getLogger("absl").setLevel(logging.ERROR)

import keras  # noqa: E402

__all__ = ["keras", "tf"]
