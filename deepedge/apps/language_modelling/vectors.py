"""Word vectors learned by a language model: nearest neighbours and a t-SNE map (the review's Fig. 4)."""

import numpy as np

from deepedge.errors import InvalidInputError

DEFAULT_QUERIES = ("mother", "happy", "letter", "london", "walk", "thought", "handsome", "monday", "ten", "she")


def embedding_matrix(model):
    """The `(vocabulary, dim)` input embedding table of a deepedge language model."""
    return np.asarray(model.embedding.embeddings, np.float32)


def nearest_neighbours(model, words, k=6):
    """`{word: [(neighbour, cosine similarity), ...]}` by cosine similarity of the embeddings."""
    tokenizer = model.tokenizer
    table = embedding_matrix(model)
    unit = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-8)
    result = {}
    for word in words:
        token = tokenizer.token_to_id(word.lower() if getattr(tokenizer, "lowercase", False) else word)
        if token == tokenizer.unknown_id:
            raise InvalidInputError(f"{word!r} is not in the model's vocabulary of {tokenizer.vocabulary_size}.")
        similarity = unit @ unit[token]
        similarity[[token, tokenizer.unknown_id, tokenizer.end_id]] = -np.inf
        best = np.argsort(-similarity)[:k]
        result[word] = [(tokenizer.vocabulary[i], round(float(similarity[i]), 3)) for i in best]
    return result


def tsne_map(model, path, num_words=400, skip=60, seed=0, title=None):
    """Draws a t-SNE map of the embeddings of frequent words into `path` (PNG); returns the 2-D points.

    The `skip` most frequent tokens (punctuation and function words) are left out so that the
    map shows content words, whose neighbourhoods are what the review's Fig. 4 illustrates.
    """
    from sklearn.manifold import TSNE

    from deepedge.plots import pyplot

    tokenizer = model.tokenizer
    ids = [i for i in range(2 + skip, min(tokenizer.vocabulary_size, 2 + skip + num_words))
           if tokenizer.vocabulary[i].isalpha()]
    vectors = embedding_matrix(model)[ids]
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-8)
    points = TSNE(n_components=2, perplexity=15, metric="cosine", init="pca", random_state=seed).fit_transform(vectors)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(16, 16))
    ax.scatter(points[:, 0], points[:, 1], s=4, color="#4477aa")
    for (x, y), i in zip(points, ids):
        ax.annotate(tokenizer.vocabulary[i], (x, y), fontsize=7, alpha=0.85)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or f"t-SNE of {len(ids)} learned word vectors ({model.name})")
    fig.tight_layout()
    from deepedge.fileio import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return points
