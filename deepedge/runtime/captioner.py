"""On-device captioner: an image in, a caption out; the encoder once, the decoder step by step,
beam search in numpy, the attention over the image's grid from every step."""

import numpy as np

from deepedge.errors import InvalidInputError
from deepedge.runtime.encoder_decoder import EdgeEncoderDecoder


def prepare_image(image, size):
    """Any picture as the captioner's input: float32 `(size, size, 3)` of 0-255 values.

    Takes a path, a PIL image or an array `(H, W)`, `(H, W, 1)`, `(H, W, 3)` or `(H, W, 4)`
    (uint8 0-255 or floats 0-1): grey is repeated into three channels, transparency is laid
    on white, and the picture is resized (not cropped) to `size` x `size`.
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        try:
            with Image.open(image) as opened:
                opened.load()
                image = opened.copy()
        except FileNotFoundError as e:
            raise InvalidInputError(f"No image file at {image}.") from e
        except (UnidentifiedImageError, OSError, ValueError) as e:
            raise InvalidInputError(f"{image} is not a readable image (PNG, JPEG, ...): {e}") from e
    if isinstance(image, Image.Image):
        if image.width < 1 or image.height < 1:
            raise InvalidInputError(f"The image is empty. Received: {image.width}x{image.height} pixels.")
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            background = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, image)
        image = np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] not in (3, 4) or min(array.shape[:2]) < 1 or array.dtype.kind not in "uif":
        raise InvalidInputError("Expected an image of shape (height, width), (height, width, 1), (height, width, 3) "
                                f"or (height, width, 4) with numbers. Received: shape {array.shape}, dtype "
                                f"{array.dtype}.")
    floats = array.dtype.kind == "f"
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise InvalidInputError("The image holds NaN or infinite values.")
    if floats and array.max() <= 1.0:
        array = array * 255.0  # floats in 0-1
    if array.shape[-1] == 4:
        alpha = array[..., 3:] / 255.0
        array = array[..., :3] * alpha + 255.0 * (1 - alpha)
    if array.shape[:2] != (size, size):
        resized = Image.fromarray(np.clip(np.rint(array), 0, 255).astype(np.uint8)).resize((size, size), Image.BILINEAR)
        array = np.asarray(resized, np.float32)
    return np.ascontiguousarray(array, np.float32)


class EdgeCaptioner(EdgeEncoderDecoder):
    """An exported `Captioner`: `encode(image)` once per image, then `decode_step(token, state,
    memory)` per word, driven by the same decoding loop (`deepedge.ops.decoding`) as in Keras.

    The tokenizer travels in `model.json`; so do the state (`h`, `c`) and the image memory the
    decoder reads at every step (`memory`, `keys` with attention).
    """

    task_name = "captioning"
    encoder_input = "image"

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        from deepedge.tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_config(self.metadata["tokenizer"])
        self.image_size = int(self.metadata["image_size"])
        self.grid_shape = tuple(self.metadata["grid"])
        self.max_caption_length = int(self.metadata["max_caption_length"])

    def caption(self, images, beam_width=None, length_penalty=1.0, max_tokens=None, on_image=None):
        """Captions of one image or a batch `(n, size, size, 3)` of 0-255 values (use
        `prepare_image` for any other picture): greedy (`decoder_rows` images side by side) or
        beam search up to `decoder_rows`. After a greedy call on one image, `last_attention`
        holds the attention weights of each step, `(rows, places)`."""
        from deepedge.ops.decoding import decode_batched, plain_text

        images = np.asarray(images)
        single = images.ndim == 3
        images = images[None] if single else images
        expected = (self.image_size, self.image_size, 3)
        if images.ndim != 4 or images.shape[1:] != expected or images.dtype.kind not in "uif":
            raise InvalidInputError(f"Expected images of shape (n, {expected[0]}, {expected[1]}, 3) with 0-255 values "
                                    "(`prepare_image` resizes any picture). Received: shape "
                                    f"{images.shape}, dtype {images.dtype}.")
        if beam_width and int(beam_width) > self.decoder_rows:
            raise InvalidInputError(f"This decoder steps {self.decoder_rows} rows at once: beam width at most "
                                    f"{self.decoder_rows}. Received: {beam_width}.")
        ids = decode_batched(self, images.astype(np.float32), self.tokenizer.end_id,
                             int(max_tokens or self.max_caption_length), beam_width, length_penalty,
                             (self.tokenizer.unknown_id,), on_image)
        texts = [plain_text(self.tokenizer, t) for t in ids]
        return texts[0] if single else texts

    def predict(self, images, beam_width=None):
        return self.caption(images, beam_width)

    def evaluate_metric(self, data, beam_width=None):
        """Corpus BLEU-4 of the captions of `data` (a `CaptionDataset`), every reference counted."""
        from deepedge.ops.bleu import multi_reference_bleu

        return multi_reference_bleu(self.caption(data.images, beam_width), data.captions, orders=(4,))[4]
