"""The models of `keras_models_matrix.py`: Keras models nobody here wrote, their data and their training.

keras.applications models are built as their authors ship them, with random weights
(`weights=None`), 96x96 colour input and a 10-class head, and calibrated on crops of the
real photographs bundled with scikit-image. The keras.io-style models are written as the
keras.io examples write them, smaller: a bidirectional LSTM text classifier (as written,
and unrolled over a fixed length), a 1-D CNN on raw 16 kHz audio, a spectrogram audio
classifier, a small U-Net, and the simple MNIST convnet. Four of them are trained briefly on
real data the repository loads, so that parity (float Keras against int8 LiteRT) means
something: the convnet on Fashion-MNIST, the audio CNN on synthesised keywords, the U-Net on
composed scenes, the unrolled LSTM on which of Jane Austen's novels a passage comes from.

Each `build_*` returns `(model, calibration, evaluation or None)` with data raw as a device
would see it (uint8 pixels, int16 PCM, token ids); `SPECS` says how `export_model` takes them.
"""

import numpy as np

from deepedge.backend import keras

layers = keras.layers
SIZE = 96


# === Data ===

def photo_crops(count=32, size=SIZE, seed=0):
    """Random crops of scikit-image's bundled photographs (real pictures), uint8 (count, size, size, 3)."""
    import skimage.data
    from PIL import Image

    rng = np.random.default_rng(seed)
    photos = [getattr(skimage.data, name)() for name in ("astronaut", "coffee", "chelsea", "rocket", "cat")]
    crops = []
    for i in range(count):
        photo = photos[i % len(photos)]
        side = int(rng.integers(min(photo.shape[:2]) // 3, min(photo.shape[:2])))
        top, left = (int(rng.integers(0, d - side + 1)) for d in photo.shape[:2])
        crop = Image.fromarray(photo[top:top + side, left:left + side, :3]).resize((size, size), Image.BILINEAR)
        crops.append(np.asarray(crop))
    return np.stack(crops)


def austen_windows(split, tokenizer, length=64, per_book=None, seed=0):
    """`(token ids (N, length) int32, book index (N,))`: passages of Jane Austen's novels."""
    from deepedge.data.text import load_austen

    corpus = load_austen(split)
    books = sorted({title for title, _, _ in corpus.chapters})
    x, y = [], []
    for title, _, paragraphs in corpus.chapters:
        ids = [i for p in paragraphs for i in tokenizer.encode(p)]
        for start in range(0, len(ids) - length, length):
            x.append(ids[start:start + length])
            y.append(books.index(title))
    x, y = np.asarray(x, np.int32), np.asarray(y, np.int64)
    if per_book:
        rng = np.random.default_rng(seed)
        keep = np.concatenate([rng.permutation(np.flatnonzero(y == b))[:per_book] for b in range(len(books))])
        x, y = x[np.sort(keep)], y[np.sort(keep)]
    return x, y


def austen_tokenizer(max_vocabulary=2000):
    from deepedge.data.text import load_austen
    from deepedge.tokenizers import WordTokenizer

    return WordTokenizer.from_texts(load_austen("train").paragraphs, max_vocabulary=max_vocabulary)


# === keras.applications ===

APPLICATIONS = {
    # name: declared preprocessing of raw 0..255 RGB (None: the model scales its input itself)
    "MobileNetV2": {"scale": 1 / 127.5, "offset": -1.0},
    "MobileNetV3Small": None,
    "EfficientNetB0": None,
    "ResNet50": {"scale": 1.0, "offset": [-123.68, -116.779, -103.939]},  # caffe means (the BGR flip skipped)
    "DenseNet121": {"scale": [1 / (255 * 0.229), 1 / (255 * 0.224), 1 / (255 * 0.225)],
                    "offset": [-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225]},
    "NASNetMobile": {"scale": 1 / 127.5, "offset": -1.0},
    "ConvNeXtTiny": None,
}


def build_application(name):
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None, input_shape=(SIZE, SIZE, 3), classes=10)
    return model, photo_crops(), None


# === keras.io-style models ===

def text_classifier(length=None, unroll=False, vocabulary=2000):
    """keras.io's bidirectional LSTM IMDB classifier, smaller, six classes (Austen's novels)."""
    tokens = keras.Input((length,), dtype="int32", name="tokens")
    x = layers.Embedding(vocabulary, 32)(tokens)
    x = layers.Bidirectional(layers.LSTM(32, return_sequences=True, unroll=unroll))(x)
    x = layers.Bidirectional(layers.LSTM(32, unroll=unroll))(x)
    return keras.Model(tokens, layers.Dense(6, activation="softmax", name="book")(x), name="text_lstm")


def build_text_lstm():
    keras.utils.set_random_seed(0)
    tokenizer = austen_tokenizer()
    x, _ = austen_windows("validation", tokenizer, per_book=20)
    return text_classifier(), x, None


def build_text_lstm_unrolled(epochs=4):
    keras.utils.set_random_seed(0)
    tokenizer = austen_tokenizer()
    x_train, y_train = austen_windows("train", tokenizer, per_book=1500)
    x_test, y_test = austen_windows("test", tokenizer)
    model = text_classifier(length=64, unroll=True)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=0)
    return model, x_train, (x_test, y_test)


def audio_cnn(classes=22):
    """A 1-D CNN on raw 16 kHz audio (M5-style, as keras.io's audio examples stack Conv1D blocks)."""
    audio = keras.Input((16000, 1), name="audio")
    x = audio
    for block, (filters, kernel, stride) in enumerate(((32, 80, 4), (32, 3, 1), (64, 3, 1), (64, 3, 1)), 1):
        x = layers.Conv1D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"block{block}_conv")(x)
        x = layers.BatchNormalization(name=f"block{block}_bn")(x)
        x = layers.ReLU(name=f"block{block}_relu")(x)
        x = layers.MaxPooling1D(4, name=f"block{block}_pool")(x)
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(audio, layers.Dense(classes, activation="softmax", name="keyword")(x), name="audio_cnn")


def build_audio_cnn(epochs=12):
    from deepedge.data.speech.keywords import load_keywords
    from deepedge.training import recalibrate_batch_norm

    keras.utils.set_random_seed(0)
    # 100 test clips a keyword (2,175 in all; a clip is 0.05 points). With 25 (543 clips, 0.18 points
    # each) the float/int8 gap of this recipe read 1.84 points in one training and 0.74 in another.
    train, test = load_keywords("train", per_keyword=120), load_keywords("test", per_keyword=100)
    model = audio_cnn(len(train.class_names))
    scaled = train.audio[..., None].astype(np.float32) / 32768.0
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(scaled, train.labels, batch_size=64, epochs=epochs, verbose=0)
    recalibrate_batch_norm(model, scaled)
    # Calibration with its labels: `--repair` measures its candidates there.
    return model, (train.audio[..., None], train.labels), (test.audio[..., None], test.labels)


def build_mel_classifier():
    """A spectrogram classifier: keras.layers.MelSpectrogram in front of a small CNN."""
    keras.utils.set_random_seed(0)
    audio = keras.Input((16000,), name="audio")
    x = layers.MelSpectrogram(num_mel_bins=40, sampling_rate=16000, sequence_stride=320, fft_length=512,
                              name="mel")(audio)
    x = layers.Reshape((40, -1, 1))(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(audio, layers.Dense(12, activation="softmax")(x), name="mel_classifier")
    rng = np.random.default_rng(0)
    return model, rng.normal(0, 0.1, (32, 16000)).astype(np.float32), None


def unet(classes, size=64):
    """keras.io's U-Net-like segmenter (Xception-style downsampling, residuals), narrower."""
    image = keras.Input((size, size, 1), name="image")
    x = layers.Rescaling(1 / 255)(image)
    x = layers.Conv2D(16, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous = x
    for filters in (32, 64):
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous)
        x = previous = layers.add([x, residual])
    for filters in (64, 32, 16):
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.UpSampling2D(2)(x)
        residual = layers.Conv2D(filters, 1, padding="same")(layers.UpSampling2D(2)(previous))
        x = previous = layers.add([x, residual])
    outputs = layers.Conv2D(classes, 3, activation="softmax", padding="same", name="labels")(x)
    return keras.Model(image, outputs, name="unet")


def build_unet(epochs=8):
    from deepedge.data.scenes import SCENE_CLASSES, load_scenes
    from deepedge.training import recalibrate_batch_norm

    keras.utils.set_random_seed(0)
    train, test = load_scenes("train", num_scenes=800, size=64), load_scenes("test", num_scenes=150, size=64)
    model = unet(len(SCENE_CLASSES))
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train.images.astype(np.float32), train.masks, batch_size=32, epochs=epochs, verbose=0)
    recalibrate_batch_norm(model, train.images)
    return model, train.images, (test.images, test.masks)


def mnist_convnet():
    """keras.io's simple MNIST convnet, as written."""
    image = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(32, 3, activation="relu")(image)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(image, layers.Dense(10, activation="softmax", name="probs")(x), name="mnist_convnet")


def build_mnist_convnet(epochs=3):
    from deepedge.data import load_fashion_mnist

    keras.utils.set_random_seed(0)
    train, test = load_fashion_mnist("train"), load_fashion_mnist("test")
    model = mnist_convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train.images.astype(np.float32) / 255.0, train.labels, batch_size=128, epochs=epochs, verbose=0)
    return model, train.images, (test.images, test.labels)


AUDIO_FRONT = [f"block{b}_{part}" for b in (1, 2) for part in ("conv", "bn", "relu", "pool")]

# name -> (what it is, builder, export_model options, data it is measured on)
SPECS = {
    **{name: (f"keras.applications.{name}, weights=None, {SIZE}x{SIZE}x3, 10 classes",
              lambda name=name: build_application(name), {"preprocessing": pre, "num_calibration": 32},
              "scikit-image photographs (calibration only)")
       for name, pre in APPLICATIONS.items()},
    "text_lstm": ("keras.io bidirectional LSTM text classifier as written (free length, unroll=False)",
                  build_text_lstm, {}, "Jane Austen passages (calibration only)"),
    "text_lstm_unrolled": ("the same, unroll=True over 64 tokens, trained 4 epochs: which novel a passage is from",
                           build_text_lstm_unrolled, {"num_calibration": 200}, "Jane Austen, test chapters"),
    "audio_cnn": ("1-D CNN on raw 16 kHz int16 audio (M5-style), trained 12 epochs on 22 keyword classes",
                  build_audio_cnn, {"preprocessing": {"scale": 1 / 32768}, "num_calibration": 300},
                  "synthesised keywords (espeak-ng, flite), test voices"),
    "audio_cnn_float_front": ("the same, its first two conv blocks (which see 8-bit raw audio) kept in float",
                              build_audio_cnn, {"preprocessing": {"scale": 1 / 32768}, "num_calibration": 300,
                                                "float_layers": AUDIO_FRONT}, "synthesised keywords, test voices"),
    "audio_cnn_repaired": ("the same, exported with repair=True: the op groups int8 hurts most kept in float, "
                           "chosen on training clips", build_audio_cnn,
                           {"preprocessing": {"scale": 1 / 32768}, "num_calibration": 300, "repair": True},
                           "synthesised keywords, test voices"),
    "mel_classifier": ("keras.layers.MelSpectrogram + small CNN, random weights", build_mel_classifier,
                       {"num_calibration": 32}, "noise (calibration only)"),
    "mel_classifier_float_front_end": ("the same with the MelSpectrogram kept in float (float_layers=['mel'])",
                                       build_mel_classifier, {"num_calibration": 32, "float_layers": ["mel"]},
                                       "noise (calibration only)"),
    "unet": ("keras.io U-Net-like segmenter, 64x64, trained 8 epochs on composed scenes", build_unet,
             {"metric": "mean_iou", "num_calibration": 200}, "composed scenes (textures + Fashion-MNIST), test"),
    "mnist_convnet": ("keras.io simple MNIST convnet, trained 3 epochs on Fashion-MNIST", build_mnist_convnet,
                      {"preprocessing": {"scale": 1 / 255}, "num_calibration": 500}, "Fashion-MNIST test, 10,000"),
}
