"""User functions (lambda families): evaluated fast, but only when bit-identical."""

import math

import numpy as np
import pytest

import lrcore
from lrcore import functions

N = 5000


def python_values(fn, lo, hi):
    return np.array([float(fn(e)) for e in range(lo, hi)])


def rational(e):
    return 1.0 / (1.0 + 0.01 * e)


def power(e):
    return 0.95**e  # numba's float ** int differs from CPython's pow


def branchy(e):
    return 1.0 if e < 100 else math.exp(-(e - 100) / 500.0)


class Table:  # a callable object: not compilable, not vectorisable
    def __init__(self):
        self.values = {0: 1.0}

    def __call__(self, e):
        return self.values.get(e, 0.5)


@pytest.mark.parametrize("fn", [rational, power, branchy, Table(), lambda e: e // 30 * 0.1])
def test_values_are_those_of_python_calls(fn):
    got = functions.evaluate(fn, 17, 17 + N)
    assert np.array_equal(got, python_values(fn, 17, 17 + N))


def test_compiled_when_exact_python_otherwise():
    functions.evaluate(rational, 0, 100)
    assert functions.chosen(rational) == "numba"
    functions.evaluate(power, 0, N)
    assert functions.chosen(power) != "numba"
    obj = Table()
    functions.evaluate(obj, 0, 100)
    assert functions.chosen(obj) == "python"


def test_a_way_that_agreed_on_one_range_is_checked_again_on_the_next():
    def stepped(e):
        return 0.97 ** (e // 7)  # numba agrees for small exponents, not for large

    assert np.array_equal(functions.evaluate(stepped, 0, 64), python_values(stepped, 0, 64))
    far = functions.evaluate(stepped, 5000, 9000)
    assert np.array_equal(far, python_values(stepped, 5000, 9000))


@pytest.mark.parametrize("way", ["numba", "array", "python"])
def test_forced_way(way):
    def f(e):
        return 1.0 / (2.0 + e)

    got = functions.evaluate(f, 0, 1000, way)
    assert np.array_equal(got, python_values(f, 0, 1000))


def test_errors_in_the_function_surface():
    def broken(e):
        raise RuntimeError("user bug")

    with pytest.raises(RuntimeError, match="user bug"):
        lrcore.table(lrcore.Lambda(broken), 10)


def test_closed_multiplicative_is_the_running_product():
    spec = lrcore.Multiplicative(lambda e: 0.999 if e % 2 else 1.0005)
    closed = lrcore.table(spec, N, 0.2, numerics="closed")
    stepped = lrcore.table(spec, N, 0.2)
    np.testing.assert_allclose(closed, stepped, rtol=1e-12)
