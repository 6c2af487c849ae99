"""deepedge.training.losses: the class-weighted and the label-smoothing cross-entropies, by hand."""

import numpy as np
import pytest


def test_weighted_cross_entropy_by_hand():
    from deepedge.training.losses import WeightedSparseCategoricalCrossentropy, balanced_class_weights

    probabilities = np.array([[[0.5, 0.5], [0.9, 0.1]]], np.float32)
    labels = np.array([[0, 1]])
    loss = WeightedSparseCategoricalCrossentropy([1.0, 3.0])
    expected = (np.log(2) * 1.0 + -np.log(0.1) * 3.0) / 2
    assert float(loss(labels, probabilities)) == pytest.approx(expected, rel=1e-5)
    assert WeightedSparseCategoricalCrossentropy.from_config(loss.get_config()).class_weights == [1.0, 3.0]
    weights = balanced_class_weights(np.array([0] * 90 + [1] * 10), 2)
    assert weights[1] == pytest.approx(3 * weights[0], rel=1e-3)  # (0.9 / 0.1) ** 0.5
    assert 0.9 * weights[0] + 0.1 * weights[1] == pytest.approx(1.0, rel=1e-3)


def test_label_smoothing_cross_entropy_by_hand():
    from deepedge.training.losses import SmoothedSparseCategoricalCrossentropy

    probabilities = np.array([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]], np.float32)
    labels = np.array([0, 2])
    loss = SmoothedSparseCategoricalCrossentropy(0.3)
    # target (1 - 0.3) on the true class + 0.3 / 3 on every class
    targets = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    expected = np.mean(-(targets * np.log(probabilities)).sum(-1))
    assert float(loss(labels, probabilities)) == pytest.approx(expected, rel=1e-5)
    plain = -np.mean(np.log([0.7, 0.5]))
    assert float(SmoothedSparseCategoricalCrossentropy(0.0)(labels, probabilities)) == pytest.approx(plain, rel=1e-5)
    assert SmoothedSparseCategoricalCrossentropy.from_config(loss.get_config()).label_smoothing == 0.3
    with pytest.raises(ValueError, match="label_smoothing"):
        SmoothedSparseCategoricalCrossentropy(1.0)
