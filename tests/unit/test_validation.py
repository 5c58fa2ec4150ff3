"""The shared argument checks of specbook.validation."""
import numpy as np
import pytest

from specbook.validation import check_int, check_probability, check_real


def test_check_int_without_maximum_keeps_its_message():
    assert check_int(0, "n", 0) == 0
    with pytest.raises(ValueError, match=r"^n must be an integer >= 1; got 0\.$"):
        check_int(0, "n", 1)


def test_check_int_bounds_are_inclusive():
    assert [check_int(k, "k", 1, 5) for k in (1, 3, 5)] == [1, 3, 5]
    assert check_int(2, "k", 2, 2) == 2
    for k in (0, 6):
        with pytest.raises(ValueError, match=rf"^k must be an integer in \[1, 5\]; got {k}\.$"):
            check_int(k, "k", 1, 5)
    with pytest.raises(ValueError, match=r"^k must be an integer in \[1, 5\]; got 7\.$"):
        check_int(7, "k", 1, 5)


@pytest.mark.parametrize("value", [True, False, 2.0, 2.5, "2", None, np.float64(2.0), np.bool_(True), [2]])
@pytest.mark.parametrize("maximum", [None, 5])
def test_check_int_refuses_what_is_not_an_integer(value, maximum):
    with pytest.raises(ValueError, match=r"^k must be an integer (>= 0|in \[0, 5\]); got "):
        check_int(value, "k", 0, maximum)


def test_check_int_returns_a_python_int():
    value = check_int(np.int64(3), "k", 1, 5)
    assert value == 3 and type(value) is int


def test_check_real_and_probability_name_the_range():
    assert check_real(0, "x", low=0) == 0.0
    with pytest.raises(ValueError, match=r"^x must be a finite real number > 0 and <= 1; got 0\.$"):
        check_real(0, "x", low=0, high=1, open_low=True)
    assert check_probability(0.5, "alpha") == 0.5
    for bad in (0, 1, float("nan"), True, "0.5"):
        with pytest.raises(ValueError, match=r"^alpha must be a finite real number > 0 and < 1; got "):
            check_probability(bad, "alpha")
