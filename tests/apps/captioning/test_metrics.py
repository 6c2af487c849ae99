"""Caption metrics: BLEU with several references, CIDEr-D, object recall and precision, grounding."""

import pytest

from deepedge.apps.captioning.metrics import bleu, caption_report, cider, grounding, object_recall_precision

SCENE = ({"kind": "shoe", "colour": "red", "size": "small", "box": (0, 0, 16, 16)},
         {"kind": "dog", "colour": None, "size": "large", "box": (32, 32, 60, 60)})


def test_bleu_counts_every_reference_and_a_perfect_caption_scores_100():
    refs = [("a red shoe left of a dog", "a small red shoe to the left of a large dog")]
    assert bleu(["a small red shoe to the left of a large dog"], refs)[4] == pytest.approx(100.0)
    scores = bleu(["a red shoe left of a cat"], refs)
    assert scores[1] > scores[2] > scores[4] and scores[1] == pytest.approx(100 * 6 / 7, abs=0.01)  # 6 of its 7 words


def test_cider_ranks_the_right_caption_above_a_wrong_one():
    refs = [("a red shoe on grass", "a small red shoe on the grass"), ("two dogs on gravel", "two large dogs")]
    right, wrong = cider(["a red shoe on the grass", "two dogs on gravel"], refs), cider(["two dogs", "a shoe"], refs)
    assert right > 100 > wrong >= 0
    assert cider(["", "two dogs"], refs) >= 0  # an empty caption scores, it does not crash


def test_object_recall_and_precision_read_nouns_plurals_and_synonyms():
    assert object_recall_precision(["a red shoe left of a dog"], [SCENE]) == (100.0, 100.0)
    assert object_recall_precision(["two shoes and a cat"], [SCENE]) == (50.0, 50.0)
    recall, precision = object_recall_precision(["a handbag"], [(SCENE[0] | {"kind": "bag"},)])
    assert (recall, precision) == (100.0, 100.0)
    assert object_recall_precision(["there is nothing"], [SCENE]) == (0.0, 0.0)


def test_grounding_checks_the_attention_peak_of_each_object_word():
    grid, size = (4, 4), 64  # 16-pixel cells
    on_shoe = [0.0] * 16
    on_shoe[0] = 1.0  # cell (0, 0): centre (8, 8), inside the shoe
    on_dog = [0.0] * 16
    on_dog[15] = 1.0  # cell (3, 3): centre (56, 56), inside the dog
    words = "a shoe left of a dog".split()
    attention = [on_shoe] * 6
    assert grounding([(words, attention)], [SCENE], grid, size) == 50.0  # "dog" looked at the shoe
    attention[5] = on_dog
    assert grounding([(words, attention)], [SCENE], grid, size) == 100.0


def test_caption_report_has_every_figure():
    from deepedge.data.captions import CaptionDataset
    import numpy as np

    data = CaptionDataset(images=np.zeros((1, 8, 8, 3), np.uint8), captions=(("a red shoe left of a dog",),),
                          objects=(SCENE,), relations=((),), split="test")
    report = caption_report(["a red shoe left of a dog"], data)
    assert report["bleu4"] == pytest.approx(100.0) and report["object_recall"] == 100.0
    assert set(report) == {"images", "bleu1", "bleu2", "bleu3", "bleu4", "cider", "object_recall", "object_precision"}
