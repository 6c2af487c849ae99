"""Decoding loops for step-wise models, numpy only: greedy, temperature and top-k sampling, beam search.

Every loop drives a `step(token, state) -> (logits, state)` callable, where `logits` is a
1-D float array over the vocabulary and `state` is whatever the model carries (a dict of
arrays for deepedge's exported models). The same loops run a Keras model in training and a
LiteRT model on device, so both decode the same way.
"""

import dataclasses

import numpy as np

from deepedge.errors import InvalidInputError


def log_softmax(logits):
    logits = np.asarray(logits)
    if logits.dtype != np.float32:  # float32 logits (a decoder's) stay float32: 4 rows of 8,000 a step
        logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@dataclasses.dataclass(frozen=True)
class Sampler:
    """How the next token is chosen from the logits.

    Args:
        strategy: `"greedy"` (most likely token), `"sample"` (from the softmax at
            `temperature`, restricted to the `top_k` most likely tokens when `top_k` is set).
        temperature: float > 0. Below 1 sharpens the distribution, above 1 flattens it.
        top_k: int or None. Sample among the k most likely tokens only.
        banned: token ids never produced (for example the unknown token).
    """

    strategy: str = "sample"
    temperature: float = 1.0
    top_k: int = None
    banned: tuple = ()

    def __post_init__(self):
        from deepedge.validation import finite_positive_float, one_of, optional_positive_int

        object.__setattr__(self, "strategy", one_of("strategy", self.strategy, ("greedy", "sample")))
        object.__setattr__(self, "temperature", finite_positive_float(
            "temperature", self.temperature, hint="Pass a temperature such as 0.8 (surer) or 1.2 (bolder)."))
        object.__setattr__(self, "top_k", optional_positive_int(
            "top_k", self.top_k, hint="Pass how many of the likeliest tokens to sample from (40, say), or None."))

    def __call__(self, logits, rng):
        from deepedge.validation import uniform_batch

        values = uniform_batch("logits", logits, "logit")
        if values.dtype.kind not in "biuf" or values.size == 0:
            raise InvalidInputError(f"Sampling needs at least one numeric logit. Received: shape={values.shape}, "
                                    f"dtype={values.dtype}. Pass the model's logits over the vocabulary.")
        logits = np.array(values, np.float64).reshape(-1)
        if self.banned:
            logits[list(self.banned)] = -np.inf
        if self.strategy == "greedy":
            return int(np.argmax(logits))
        candidates = None
        if self.top_k is not None and self.top_k < logits.size:
            candidates = np.argpartition(logits, -self.top_k)[-self.top_k:]
            logits = logits[candidates]
        with np.errstate(over="ignore"):  # a tiny temperature: all but the likeliest go to -inf, none to NaN
            probs = np.exp(log_softmax((logits - logits.max()) / self.temperature))
        choice = int(np.searchsorted(np.cumsum(probs), rng.random() * probs.sum(), side="right"))
        choice = min(choice, probs.size - 1)
        return int(candidates[choice]) if candidates is not None else choice


def prime(step, tokens, state):
    """Feeds `tokens` one by one; returns `(logits after the last, state)`."""
    if len(tokens) == 0:
        raise InvalidInputError("Priming needs at least one token.")
    logits = None
    for token in tokens:
        logits, state = step(int(token), state)
    return logits, state


def sample_sequence(step, prompt_tokens, state, max_tokens, sampler=Sampler(), stop_token=None, seed=None):
    """Generates up to `max_tokens` ids after `prompt_tokens`, stopping after `stop_token`."""
    rng = np.random.default_rng(seed)
    logits, state = prime(step, prompt_tokens, state)
    out = []
    for _ in range(int(max_tokens)):
        token = sampler(logits, rng)
        out.append(token)
        if stop_token is not None and token == stop_token:
            break
        logits, state = step(token, state)
    return out


def beam_search(step, prompt_tokens, state, max_tokens, beam_width=4, stop_token=None, length_penalty=0.0,
                banned=()):
    """The `beam_width` best continuations by total log-probability, best first.

    Each hypothesis carries its own state; a batch-1 model is stepped once per live beam.
    Returns a list of `(tokens, score)` where `score` is the summed log-probability divided
    by `len(tokens) ** length_penalty`.
    """
    from deepedge.validation import non_negative_int, positive_int

    beam_width = positive_int("beam_width", beam_width, hint="Pass how many hypotheses to keep (4, say).")
    max_tokens = non_negative_int("max_tokens", max_tokens)
    logits, state = prime(step, prompt_tokens, state)
    beams = [((), 0.0, logits, state)]
    finished = []
    for _ in range(int(max_tokens)):
        candidates = []
        for tokens, score, logits, beam_state in beams:
            logp = log_softmax(logits).reshape(-1)
            if banned:
                logp[list(banned)] = -np.inf
            for token in np.argsort(-logp, kind="stable")[:beam_width]:  # ties: the lower id, as the page does
                candidates.append((tokens + (int(token),), score + float(logp[token]), beam_state))
        candidates.sort(key=lambda c: -c[1])
        beams = []
        for tokens, score, parent_state in candidates[:beam_width]:
            if stop_token is not None and tokens[-1] == stop_token:
                finished.append((tokens, score))
                continue
            logits, new_state = step(tokens[-1], parent_state)
            beams.append((tokens, score, logits, new_state))
        if not beams:
            break
    finished += [(tokens, score) for tokens, score, _, _ in beams]

    def normalised(item):
        return item[1] / (len(item[0]) ** length_penalty if length_penalty else 1.0)

    return [(list(tokens), normalised((tokens, score)))
            for tokens, score in sorted(finished, key=normalised, reverse=True)[:beam_width]]


EVALUATION_SEGMENTS = 16


def segment_starts(length, segments=EVALUATION_SEGMENTS):
    """Where the evaluation segments of a `length`-token stream start.

    Perplexity is measured over `segments` equal, contiguous parts of the stream, each read
    from a fresh state (as after a paragraph end), so that Keras can run them side by side
    and the on-device runtime can check its figure token for token.
    """
    segments = max(1, min(int(segments), length // 64 or 1))
    return [round(i * length / segments) for i in range(segments)]


def as_token_ids(tokenizer, data, allow_empty=True):
    """A flat int32 id stream from a `TextCorpus`, a list of paragraphs, a string, or ids (integers
    in the vocabulary only: floats, booleans and ids that int32 cannot hold are refused). With
    `allow_empty=False`, a stream without a token is refused (the perplexity of nothing)."""
    from deepedge.validation import describe, token_ids

    if hasattr(data, "paragraphs"):
        data = data.paragraphs
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, np.ndarray):
        if not hasattr(data, "__iter__") or isinstance(data, (bytes, dict)):
            raise InvalidInputError(f"Expected text: a string, a list of paragraphs, a TextCorpus, or token ids. "
                                    f"Received: {describe(data)}. Pass a string or a list of strings.")
        data = list(data)
    if not isinstance(data, np.ndarray) and any(isinstance(item, str) for item in data):
        if not all(isinstance(item, str) for item in data):
            bad = next(item for item in data if not isinstance(item, str))
            raise InvalidInputError(f"Expected a list of paragraphs (strings) or of token ids, not both. Received: "
                                    f"{describe(bad)} among strings. Pass strings only.")
        data = tokenizer.encode_paragraphs(data)
    return token_ids("data", data, tokenizer.vocabulary_size, allow_empty=allow_empty)


def generate_text(tokenizer, step, state, prompt, max_tokens, strategy="sample", temperature=1.0, top_k=None,
                  beam_width=None, seed=None):
    """The decode loop shared by Keras and LiteRT language models; returns the continuation text."""
    from deepedge.validation import optional_positive_int, positive_int, seed as checked_seed

    if not isinstance(prompt, str):
        raise InvalidInputError(f"The prompt must be a string. Received: {type(prompt).__name__}. Pass the text to "
                                "continue (\"\" to start a new paragraph).")
    max_tokens = positive_int("max_tokens", max_tokens, hint="Pass how many tokens to write at most (50, say).")
    beam_width = optional_positive_int("beam_width", beam_width, hint="Pass how many hypotheses to keep (4, say), "
                                       "or None to sample.")
    seed = checked_seed("seed", seed)
    sampler = Sampler(strategy, temperature, top_k, (tokenizer.unknown_id,))  # checked even for beam search
    prompt_ids = [tokenizer.end_id] + tokenizer.encode(prompt)  # a paragraph starts after an end token
    banned = (tokenizer.unknown_id,)
    if beam_width:
        tokens, _ = beam_search(step, prompt_ids, state, max_tokens, beam_width=beam_width,
                                stop_token=tokenizer.end_id, banned=banned)[0]
    else:
        tokens = sample_sequence(step, prompt_ids, state, max_tokens, sampler, stop_token=tokenizer.end_id,
                                 seed=seed)
    return tokenizer.decode(prompt_ids[1:] + tokens).strip()


def greedy_batch(step, state, rows, end_id, max_tokens, banned=()):
    """Greedy decoding of `rows` sentences side by side with a batched `step`.

    `step(tokens (rows,), state) -> (logits (rows, vocabulary), state)`. Every row reads the end
    token first (as a sentence start) and is done when it writes it again; done rows keep
    reading the end token until all are. Returns one id list per row, without the end token.
    """
    tokens = np.full(rows, end_id, np.int32)
    done = np.zeros(rows, bool)
    out = [[] for _ in range(rows)]
    for _ in range(int(max_tokens)):
        logits, state = step(tokens, state)
        logits = np.array(logits, np.float64).reshape(rows, -1)
        if banned:
            logits[:, list(banned)] = -np.inf
        tokens = logits.argmax(axis=1).astype(np.int32)
        done |= tokens == end_id
        for i in np.flatnonzero(~done):
            out[i].append(int(tokens[i]))
        if done.all():
            break
        tokens[done] = end_id
    return out


def _top_k(values, k):
    """Indices of the `k` largest of a 1-D array, largest first. For a beam's few picks out of
    tens of thousands of scores, `k` argmax passes are 15x faster than `argpartition`."""
    if k > 8:
        best = np.argpartition(-values, k - 1)[:k]
        return best[np.argsort(-values[best], kind="stable")]
    values = values.copy()
    best = []
    for _ in range(k):
        index = int(np.argmax(values))
        best.append(index)
        values[index] = -np.inf
    return np.array(best)


def beam_search_batch(step, state, rows, end_id, max_tokens, beam_width=4, length_penalty=1.0, banned=()):
    """Beam search for one sentence with a batched `step`, one row per live hypothesis.

    `state` holds `rows >= beam_width` copies of the sentence's start state (a dict of arrays,
    rows first); a hypothesis's state moves with it when the beam is reordered. Each round
    keeps the `beam_width` best extensions by total log-probability; one that ends with
    `end_id` is finished. The search stops when `beam_width` hypotheses have finished and no
    live one ranks above the worst of them at its present length (the usual early stop), when
    none is live, or after `max_tokens`. Returns `[(ids without the end token, score)]` best
    first, where score is the log-probability divided by `length ** length_penalty`.
    """
    beam_width = int(beam_width)
    if not 1 <= beam_width <= rows:
        raise InvalidInputError(f"beam_width must be between 1 and {rows} (the decoder's rows). "
                                f"Received: {beam_width!r}.")

    def normalised(score, length):
        return score / (length ** length_penalty if length_penalty else 1.0)

    tokens = np.full(rows, end_id, np.int32)
    logits, state = step(tokens, state)
    hypotheses, scores = [()], np.zeros(1)  # live hypotheses sit in rows 0..len-1
    finished = []
    for _ in range(int(max_tokens)):
        logp = log_softmax(np.asarray(logits).reshape(rows, -1)[:len(hypotheses)])
        if banned:
            logp[:, list(banned)] = -np.inf
        totals = (scores[:, None] + logp).ravel()
        best = _top_k(totals, beam_width)
        vocabulary = logp.shape[1]
        parents, next_hypotheses, next_scores = [], [], []
        for index in best:
            row, token = divmod(int(index), vocabulary)
            extended = hypotheses[row] + (token,)
            if token == end_id:
                finished.append((extended, float(totals[index])))
            else:
                parents.append(row)
                next_hypotheses.append(extended)
                next_scores.append(float(totals[index]))
        if not next_hypotheses:
            break
        hypotheses, scores = next_hypotheses, np.array(next_scores)
        if len(finished) >= beam_width:
            worst_kept = sorted((normalised(sc, len(h)) for h, sc in finished), reverse=True)[beam_width - 1]
            if max(normalised(sc, len(h)) for h, sc in zip(hypotheses, scores)) <= worst_kept:
                hypotheses = []
                break
        tokens = np.full(rows, end_id, np.int32)
        tokens[:len(hypotheses)] = [h[-1] for h in hypotheses]
        order = np.zeros(rows, np.int64)
        order[:len(parents)] = parents
        state = {name: np.asarray(value)[order] for name, value in state.items()}
        logits, state = step(tokens, state)
    finished += list(zip(hypotheses, scores.tolist() if len(hypotheses) else []))
    ranked = sorted(finished, key=lambda item: normalised(item[1], len(item[0])), reverse=True)[:beam_width]
    return [([t for t in h if t != end_id], normalised(sc, len(h))) for h, sc in ranked]


def target_tokens(tokenizer, texts):
    """How many tokens a decoder wrote for `texts`, each end token included (tokens per second)."""
    return sum(len(tokenizer.encode(text)) + 1 for text in texts)


def decode_batched(model, inputs, end_id, max_tokens, beam_width=None, length_penalty=1.0, banned=(),
                   on_item=None):
    """Token ids written for each of `inputs` (sentences' ids, images) by a model with a batched
    decoder: `model.decoder_rows` (rows its decoder takes at once; None for any number) and
    `model.start(inputs[i:j], rows) -> (step, state)`, which encodes the inputs into the first
    rows. Greedy decoding runs `decoder_rows` inputs side by side; beam search decodes one input
    with one row per hypothesis. Keras and the device share this loop, so they decode alike.
    `on_item(n)` is called as inputs finish (a progress bar)."""
    if on_item is not None and not callable(on_item):
        raise InvalidInputError(f"The progress callback must be callable (a function of the count done) or None. "
                                f"Received: {type(on_item).__name__}. Pass a function, or leave it out.")
    out = []
    if beam_width and int(beam_width) > 1:
        rows = model.decoder_rows or int(beam_width)
        for item in inputs:
            step, state = model.start(item[None], rows)
            out.append(beam_search_batch(step, state, rows, end_id, max_tokens, beam_width, length_penalty,
                                         banned)[0][0])
            if on_item:
                on_item(1)
    else:
        rows = model.decoder_rows or min(len(inputs), 64)
        for first in range(0, len(inputs), rows):
            chunk = inputs[first:first + rows]
            step, state = model.start(chunk, rows)
            out += greedy_batch(step, state, rows, end_id, max_tokens, banned)[:len(chunk)]
            if on_item:
                on_item(len(chunk))
    return out


def decoding_options(beam_width, length_penalty, max_tokens, default_max_tokens, rows=None):
    """Checked `(beam_width, length_penalty, max_tokens)` of a translator's or captioner's decode:
    `beam_width` None or 1 to `rows` (the decoder's rows; any with None), `max_tokens` None (then
    `default_max_tokens`) or at least 1, `length_penalty` from -10 to 10 (a hypothesis's score is
    divided by `length ** length_penalty`: past that, the power overflows or rounds to 0)."""
    from deepedge.validation import optional_positive_int, real

    hint = f"Pass a beam width from 1 to {rows} (the rows the exported decoder steps at once)" if rows else \
        "Pass a beam width of 1 or more (4, say)"
    beam_width = optional_positive_int("beam_width", beam_width, maximum=rows, hint=hint + ", or None for greedy.")
    max_tokens = optional_positive_int("max_tokens", max_tokens, hint=f"Pass how many tokens to write at most, or "
                                       f"None for the model's {default_max_tokens}.")
    length_penalty = real("length_penalty", length_penalty, minimum=-10.0, maximum=10.0, hint="Pass 1.0 (the "
                          "default) to rank hypotheses by log-probability per token, 0 for the plain sum.")
    return beam_width, length_penalty, max_tokens or int(default_max_tokens)


def plain_text(tokenizer, ids):
    """The tokens of `ids` up to the first end token, joined by spaces as they are (lower-case
    captions compare with their references word for word; `decode` would capitalise)."""
    words = []
    for token_id in ids:
        if token_id == tokenizer.end_id:
            break
        words.append(tokenizer.id_to_token(int(token_id)))
    return " ".join(words)


def translate_texts(model, texts, beam_width=None, length_penalty=1.0, max_tokens=None, on_sentence=None):
    """The translations of one sentence or a list, by any translator with a batched decoder.

    `model` has `source_tokenizer`, `target_tokenizer`, `max_source_length`, `max_target_length`,
    and the batched decoder of `decode_batched` (`start` takes source ids
    `(n, max_source_length)`). `on_sentence(n)` is called as sentences finish.
    """
    from deepedge.tokenizers import encode_sentences

    single = isinstance(texts, str)
    if not single and not isinstance(texts, (list, tuple)):
        raise InvalidInputError(f"Expected a sentence or a list of sentences. Received: {type(texts).__name__}.")
    beam_width, length_penalty, max_tokens = decoding_options(beam_width, length_penalty, max_tokens,
                                                              model.max_target_length, model.decoder_rows)
    source_ids = encode_sentences(model.source_tokenizer, texts, model.max_source_length)
    out = decode_batched(model, source_ids, model.target_tokenizer.end_id, max_tokens,
                         beam_width, length_penalty, (model.target_tokenizer.unknown_id,), on_sentence)
    texts_out = [model.target_tokenizer.decode(ids) for ids in out]
    return texts_out[0] if single else texts_out


__all__ = ["EVALUATION_SEGMENTS", "Sampler", "as_token_ids", "beam_search", "decode_batched", "decoding_options",
           "generate_text", "log_softmax", "plain_text", "prime",
           "sample_sequence", "segment_starts", "target_tokens", "translate_texts", "greedy_batch", "beam_search_batch"]
