"""On-device captioner: an image in, a caption out; the encoder once, the decoder step by step,
beam search in numpy, the attention over the image's grid from every step."""

import numpy as np

from deepedge.errors import InvalidInputError
from deepedge.ops.preprocess import check_pixels, open_image, pil_pixels
from deepedge.runtime.encoder_decoder import EdgeEncoderDecoder


def prepare_image(image, size):
    """Any picture as the captioner's input: float32 `(size, size, 3)` of 0-255 values.

    Takes a path, a PIL image or an array `(H, W)`, `(H, W, 1)`, `(H, W, 3)` or `(H, W, 4)`
    (uint8 0-255 or floats 0-1): grey is repeated into three channels, transparency is laid
    on white, and the picture is resized (not cropped) to `size` x `size`.
    """
    from PIL import Image

    from deepedge.validation import uniform_images

    if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        name = "The image" if isinstance(image, bytes) else str(image)
        with open_image(image, f"{name} is not a readable image", "Pass a PNG, JPEG, BMP or TIFF file.") as opened:
            image = _pixels(opened)
    if isinstance(image, Image.Image):
        image = _pixels(image)
    array = uniform_images("image", image)
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
    check_pixels(array, False, "the image")
    if array.shape[-1] == 4:
        alpha = array[..., 3:] / 255.0
        array = array[..., :3] * alpha + 255.0 * (1 - alpha)
    if array.shape[:2] != (size, size):
        resized = Image.fromarray(np.clip(np.rint(array), 0, 255).astype(np.uint8)).resize((size, size), Image.BILINEAR)
        array = np.asarray(resized, np.float32)
    return np.ascontiguousarray(array, np.float32)


def _pixels(image):
    """A PIL image as uint8 RGB, transparency laid on white, deep images by their bit depth."""
    from PIL import Image

    if image.width < 1 or image.height < 1:
        raise InvalidInputError(f"The image is empty. Received: {image.width}x{image.height} pixels.")
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return pil_pixels(image, 3)


class EdgeCaptioner(EdgeEncoderDecoder):
    """An exported `Captioner`: `encode(image)` once per image, then `decode_step(token, state,
    memory)` per word, driven by the same decoding loop (`deepedge.ops.decoding`) as in Keras.

    The tokenizer travels in `model.json`; so do the state (`h`, `c`) and the image memory the
    decoder reads at every step (`memory`, `keys` with attention).
    """

    task_name = "captioning"
    encoder_input = "image"
    metadata_fields = {"tokenizer": "object", "image_size": "count", "grid": "counts", "max_caption_length": "count"}

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.tokenizer = self._tokenizer()
        self._check_classes("tokens", self.tokenizer.vocabulary_size, self._decoder_logits())
        self.image_size = int(self.metadata["image_size"])
        self.grid_shape = tuple(self.metadata["grid"])
        self.max_caption_length = int(self.metadata["max_caption_length"])

    def caption(self, images, beam_width=None, length_penalty=1.0, max_tokens=None, on_image=None):
        """Captions of one image or a batch `(n, size, size, 3)` of 0-255 values (use
        `prepare_image` for any other picture): greedy (`decoder_rows` images side by side) or
        beam search up to `decoder_rows`. After a greedy call on one image, `last_attention`
        holds the attention weights of each step, `(rows, places)`."""
        from deepedge.ops.decoding import decode_batched, decoding_options, plain_text
        from deepedge.validation import uniform_images

        beam_width, length_penalty, max_tokens = decoding_options(beam_width, length_penalty, max_tokens,
                                                                  self.max_caption_length, self.decoder_rows)
        images = uniform_images("images", images)
        single = images.ndim == 3
        images = images[None] if single else images
        expected = (self.image_size, self.image_size, 3)
        if images.ndim != 4 or images.shape[1:] != expected or images.dtype.kind not in "uif":
            raise InvalidInputError(f"Expected images of shape (n, {expected[0]}, {expected[1]}, 3) with 0-255 values "
                                    "(`prepare_image` resizes any picture). Received: shape "
                                    f"{images.shape}, dtype {images.dtype}.")
        pixels = images.astype(np.float32)
        check_pixels(pixels, images.dtype.kind == "f")
        ids = decode_batched(self, pixels, self.tokenizer.end_id, max_tokens, beam_width, length_penalty,
                             (self.tokenizer.unknown_id,), on_image)
        texts = [plain_text(self.tokenizer, t) for t in ids]
        return texts[0] if single else texts

    def predict(self, images, beam_width=None):
        return self.caption(images, beam_width)

    def evaluate_metric(self, data, beam_width=None):
        """Corpus BLEU-4 of the captions of `data` (a `CaptionDataset`), every reference counted."""
        from deepedge.ops.bleu import multi_reference_bleu

        return multi_reference_bleu(self.caption(data.images, beam_width), data.captions, orders=(4,))[4]
