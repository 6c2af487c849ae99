"""deepedge.validation: every check returns a plain value or raises InvalidInputError saying what
was expected, what was received and what to do; never another exception, whatever it is given."""

import math

import numpy as np
import pytest

from deepedge import validation as v
from deepedge.errors import InvalidInputError

try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # the property tests below need hypothesis; the seeded fuzz test does not
    given = None

# Awkward values a caller might pass for any argument.
AWKWARD = [None, True, False, np.bool_(True), 0, 1, -1, 3, 2**31, 2**32 + 5, 2**63, 10**400, -(10**400),
           np.int8(-3), np.int64(7), np.uint64(2**64 - 1), 0.0, 0.5, 1.0, 2.5, -0.0, math.inf, -math.inf, math.nan,
           np.float32(0.25), np.float64("nan"), 1e-320, 1e308, "3", "", "greedy", b"3", [], [1], (1, 2), {}, {1: 2},
           object(), np.zeros(0), np.zeros((2, 2)), np.array(3), 1 + 2j, slice(1), Ellipsis]


def _expected_message(error, name):
    text = str(error)
    assert f"`{name}`" in text or "Token ids" in text, text
    assert "Received" in text and "Pass" in text, text


@pytest.mark.parametrize("value", [-3, 0, 2.5, "3", True, None, math.inf, [2]])
def test_positive_int_refuses_what_is_not_a_positive_integer(value):
    with pytest.raises(InvalidInputError) as raised:
        v.positive_int("top_k", value)
    _expected_message(raised.value, "top_k")
    assert repr(value)[:10] in str(raised.value)


def test_positive_int_returns_plain_ints_and_applies_the_maximum():
    assert v.positive_int("top_k", np.int64(3)) == 3 and type(v.positive_int("top_k", np.int64(3))) is int
    assert v.positive_int("beam_width", 4, maximum=4) == 4
    with pytest.raises(InvalidInputError, match="from 1 to 4"):
        v.positive_int("beam_width", 5, maximum=4)
    assert v.non_negative_int("episode", 0) == 0
    assert v.optional_positive_int("top_k", None) is None
    with pytest.raises(InvalidInputError, match="at least 0"):
        v.non_negative_int("episode", -1)


def test_seed_takes_non_negative_ints_generators_and_none():
    generator = np.random.default_rng(0)
    assert v.seed("seed", None) is None and v.seed("seed", generator) is generator and v.seed("seed", 7) == 7
    for bad in (1.5, -1, "a", True):
        with pytest.raises(InvalidInputError, match="seed"):
            v.seed("seed", bad)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 0, -1.0, "1.0", True, 10**400, None])
def test_finite_positive_float_refuses_infinities_nan_and_zero(value):
    with pytest.raises(InvalidInputError) as raised:
        v.finite_positive_float("temperature", value)
    _expected_message(raised.value, "temperature")


def test_real_bounds_and_probability():
    assert v.finite_positive_float("temperature", np.float32(0.5)) == 0.5
    assert v.probability("epsilon", 0) == 0.0 and v.probability("epsilon", 1) == 1.0
    for bad in (-0.1, 1.1, math.nan):
        with pytest.raises(InvalidInputError, match="from 0 to 1"):
            v.probability("epsilon", bad)
    assert v.real("hop_seconds", 0.25, minimum=0.01, maximum=1.0) == 0.25
    with pytest.raises(InvalidInputError, match="from 0.01 to 1"):
        v.real("hop_seconds", 0, minimum=0.01, maximum=1.0)
    assert v.finite_float("length_penalty", -2) == -2.0


def test_one_of_never_takes_a_bool_for_a_number():
    assert v.one_of("strategy", np.str_("greedy"), ("greedy", "sample")) == "greedy"
    with pytest.raises(InvalidInputError, match="'greedy', 'sample'"):
        v.one_of("strategy", "beam", ("greedy", "sample"))
    with pytest.raises(InvalidInputError):
        v.one_of("mode", True, (1, 2))
    with pytest.raises(InvalidInputError):
        v.one_of("mode", np.array([1]), (1, 2))


def test_non_empty():
    assert v.non_empty("data", [1]) == [1]
    with pytest.raises(InvalidInputError, match="empty"):
        v.non_empty("calibration_data", np.zeros((0, 4)), "sample")
    with pytest.raises(InvalidInputError, match="sequence"):
        v.non_empty("data", 5)


def test_uniform_images_names_the_first_image_of_another_shape():
    images = [np.zeros((28, 28)), np.zeros((28, 28)), np.zeros((20, 20))]
    with pytest.raises(InvalidInputError, match=r"images\[2\] of shape \(20, 20\)") as raised:
        v.uniform_images("images", images)
    assert "(28, 28)" in str(raised.value) and "inhomogeneous" not in str(raised.value)
    with pytest.raises(InvalidInputError, match=r"images\[1\]"):
        v.uniform_images("images", [[[1, 2], [3, 4]], [[1, 2], [3]]])
    assert v.uniform_images("images", [np.zeros((2, 2))] * 3).shape == (3, 2, 2)
    array = np.zeros((1, 2))
    assert v.uniform_batch("audio", array) is array


def test_token_ids_refuse_overflow_floats_and_bools_instead_of_wrapping():
    assert v.token_ids("ids", [1, np.int64(2), 3], 10).tolist() == [1, 2, 3]
    assert v.token_ids("ids", np.array([[1, 2], [3, 4]], np.uint8), 10).dtype == np.int32
    assert v.token_ids("ids", [], 10).size == 0
    cases = [([2**32 + 5], "4294967301"), (np.array([2**32 + 5]), "4294967301"), ([2**70], "1180591620717411303424"),
             ([-1], "from -1"), ([1.5], "1.5"), ([3.0], "a float"), (np.array([1.0, 2.0]), "float64"),
             ([True, 3], "bool"), (np.array([True]), "bool"), ("abc", "str"), (5, "int"), ([[1, 2], [3]], "list"),
             ([1, "2"], "str")]
    for ids, shown in cases:
        with pytest.raises(InvalidInputError) as raised:
            v.token_ids("ids", ids, 10)
        assert shown in str(raised.value), (ids, str(raised.value))
        _expected_message(raised.value, "ids")
    with pytest.raises(InvalidInputError, match="empty"):
        v.token_ids("data", np.zeros(0, np.int64), 10, allow_empty=False)


CHECKS = [lambda x: v.positive_int("a", x), lambda x: v.non_negative_int("a", x),
          lambda x: v.optional_positive_int("a", x), lambda x: v.seed("a", x), lambda x: v.finite_float("a", x),
          lambda x: v.finite_positive_float("a", x), lambda x: v.probability("a", x),
          lambda x: v.real("a", x, minimum=0.01, maximum=1.0), lambda x: v.one_of("a", x, ("greedy", "sample")),
          lambda x: v.non_empty("a", x), lambda x: v.uniform_images("a", x), lambda x: v.token_ids("a", x, 10),
          lambda x: v.token_ids("a", x, 10, allow_empty=False), lambda x: v.describe(x)]


def _check_returns_or_refuses(check, value):
    try:
        check(value)
    except InvalidInputError as e:
        assert "Received" in str(e), str(e)


def test_every_check_returns_or_raises_invalid_input_on_awkward_values():
    for check in CHECKS:
        for value in AWKWARD + [AWKWARD]:
            _check_returns_or_refuses(check, value)


def test_seeded_fuzz_of_nested_values():
    rng = np.random.default_rng(0)
    for _ in range(300):
        size = int(rng.integers(0, 4))
        value = [AWKWARD[int(i)] for i in rng.integers(0, len(AWKWARD), size)]
        for check in CHECKS:
            _check_returns_or_refuses(check, value)


def test_results_satisfy_their_contract():
    for value in AWKWARD:
        for check, ok in ((v.positive_int, lambda r: type(r) is int and r >= 1),
                          (v.finite_positive_float, lambda r: type(r) is float and math.isfinite(r) and r > 0),
                          (v.probability, lambda r: 0.0 <= r <= 1.0)):
            try:
                result = check("a", value)
            except InvalidInputError:
                continue
            assert ok(result), (check.__name__, value, result)


if given is not None:
    ANYTHING = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=3),
        lambda children: st.lists(children, max_size=4) | st.tuples(children, children), max_leaves=12)

    @settings(max_examples=300, deadline=None)
    @given(ANYTHING)
    def test_property_any_input_is_a_result_or_invalid_input(value):
        for check in CHECKS:
            _check_returns_or_refuses(check, value)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.integers(), max_size=8), st.integers(min_value=1, max_value=2**31 - 1))
    def test_property_token_ids_never_wrap(ids, vocabulary_size):
        try:
            result = v.token_ids("ids", ids, vocabulary_size)
        except InvalidInputError:
            assert any(not 0 <= i < vocabulary_size for i in ids)
        else:
            assert result.tolist() == ids

    @settings(max_examples=300, deadline=None)
    @given(st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans()))
    def test_property_positive_int_accepts_exactly_the_positive_ints(value):
        accepted = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        try:
            assert v.positive_int("n", value) == value and accepted
        except InvalidInputError:
            assert not accepted
else:
    def test_property_tests_need_hypothesis():
        pytest.skip("hypothesis is not installed: pip install hypothesis to run the property tests")
