"""The table API: shapes, dtypes, windows, and errors naming the parameter."""

import math
import subprocess
import sys

import numpy as np
import pytest

import lrcore

COS = lrcore.CosineAnnealing(T_max=100, eta_min=0.01)


def test_groups_are_rows():
    grouped = lrcore.table(COS, 500, [0.1, 0.5, 2.0])
    assert grouped.shape == (3, 500)
    for row, base in zip(grouped, [0.1, 0.5, 2.0]):
        assert np.array_equal(row, lrcore.table(COS, 500, base))
    assert lrcore.table(COS, 500, np.array([0.1, 0.5])).shape == (2, 500)


def test_float32_is_the_float64_table_rounded():
    t64 = lrcore.table(COS, 1000, 0.3)
    t32 = lrcore.table(COS, 1000, 0.3, dtype=np.float32)
    assert t32.dtype == np.float32
    assert np.array_equal(t32, t64.astype(np.float32))


def test_text_spec_and_empty_table():
    assert np.array_equal(
        lrcore.table("cosine_annealing(T_max=100, eta_min=0.01)", 50), lrcore.table(COS, 50)
    )
    assert lrcore.table(COS, 0).shape == (0,)


def test_far_window_without_earlier_steps():
    # a window 10^12 steps in: the closed form needs no earlier step
    spec = lrcore.CosineAnnealingWarmRestarts(T_0=1000, T_mult=2)
    start = 10**12
    got = lrcore.table(spec, 1000, start=start, numerics="closed")
    # cycle k starts at 1000 (2**k - 1); find the one holding `start` by hand
    k = 0
    while 1000 * (2 ** (k + 1) - 1) <= start:
        k += 1
    t_cur = start - 1000 * (2**k - 1)
    t_i = 1000 * 2**k
    want = (1 + np.cos(np.pi * (t_cur + np.arange(1000)) / t_i)) / 2
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # torch numerics: stateless here, so the same window directly
    np.testing.assert_allclose(lrcore.table(spec, 1000, start=start), want, rtol=1e-12)


def test_one_cycle_momentum_and_absolute_rates():
    spec = lrcore.OneCycle(max_lr=0.1, total_steps=1000)
    lr = lrcore.table(spec, 1001)
    mom = lrcore.table(spec, 1001, quantity="momentum")
    assert lr[0] == pytest.approx(0.1 / 25) and lr.max() == pytest.approx(0.1)
    assert mom[0] == 0.95 and mom.min() == pytest.approx(0.85)


@pytest.mark.parametrize(
    "kwargs,pattern,exc",
    [
        (dict(steps=-1), "table: steps must be an integer >= 0, got steps=-1", ValueError),
        (dict(steps=10.0), "steps must be an integer", TypeError),
        (dict(steps=10, start=-5), "start must be an integer >= 0", ValueError),
        (dict(steps=2**53, start=10), "start \\+ steps must be at most 2\\*\\*53", ValueError),
        (dict(steps=10, numerics="exact"), "numerics must be one of 'torch', 'closed'", ValueError),
        (
            dict(steps=10, dtype=np.int32),
            "dtype must be numpy.float32 or numpy.float64",
            ValueError,
        ),
        (dict(steps=10, base_lr=-0.1), "base_lr must be a finite number >= 0.0", ValueError),
        (dict(steps=10, base_lr=float("nan")), "base_lr must be", ValueError),
        (dict(steps=10, base_lr=[0.1, "x"]), "base_lr\\[1\\] must be", TypeError),
        (dict(steps=10, base_lr=[]), "base_lr must be a number or a non-empty list", ValueError),
        (dict(steps=10, previous_lr=0.5), "previous_lr must be None when start=0", ValueError),
        (
            dict(steps=10, start=3, base_lr=[1.0, 2.0], previous_lr=[0.5]),
            "previous_lr must be one value per group",
            ValueError,
        ),
        (
            dict(steps=10, quantity="momentum"),
            "quantity must be 'lr' for cosine_annealing \\('momentum' needs cyclic",
            ValueError,
        ),
        (
            dict(steps=10, quantity="weight_decay"),
            "quantity must be 'lr' for cosine_annealing \\('weight_decay' needs megatron",
            ValueError,
        ),
        (dict(steps=10, quantity="beta"), "quantity must be one of", ValueError),
    ],
)
def test_bad_arguments(kwargs, pattern, exc):
    with pytest.raises(exc, match=pattern):
        lrcore.table(COS, **kwargs)


def test_bad_spec_and_absolute_base_lr():
    with pytest.raises(TypeError, match="table: spec must be a schedule spec"):
        lrcore.table(42, 10)
    cyclic = lrcore.Cyclic(base_lr=0.001, max_lr=0.1)
    with pytest.raises(ValueError, match="base_lr must be left at 1.0 for cyclic"):
        lrcore.table(cyclic, 10, base_lr=0.5)
    one = lrcore.OneCycle(max_lr=0.1, total_steps=100)
    with pytest.raises(ValueError, match="one_cycle defines steps 0..100"):
        lrcore.table(one, 102)
    assert lrcore.table(one, 101)[-1] > 0


def test_import_compiles_nothing_and_never_imports_torch():
    code = (
        "import sys, lrcore, lrcore.kernels.torch_numerics as tn, lrcore.kernels.closed as cl\n"
        "from lrcore.kernels import Kernel\n"
        "ks = [f for m in (tn, cl) for f in vars(m).values() if isinstance(f, Kernel)]\n"
        "assert ks and not any(k.ready for k in ks), [k for k in ks if k.ready]\n"
        "assert 'numba' not in sys.modules\n"
        "lrcore.table(lrcore.Step(10), 10**5)\n"
        "assert 'numba' in sys.modules and tn.LEAF_STEPS[lrcore.Step.kind].ready\n"
        "assert 'torch' not in sys.modules\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_max_ulp_counts_units_in_the_last_place():
    from lrcore.bench import max_ulp

    one = np.array([1.0])
    assert max_ulp(one, one) == 0
    assert max_ulp(one, np.nextafter(one, 2)) == 1
    assert max_ulp(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 2 * 2**-51])) == 2
    assert max_ulp(np.array([0.0]), np.array([-0.0])) == 0  # the same value
    tiny = np.nextafter(0.0, 1.0)
    assert max_ulp(np.array([tiny]), np.array([-tiny])) == 2
    assert max_ulp(np.array([1.0]), np.array([2.0])) == 2**52
    assert max_ulp(np.array([-1.0]), np.array([1.0])) == 2 * 0x3FF0000000000000


STRIDED = [
    "megatron(max_lr=0.0006, lr_decay_steps=100000, min_lr=6e-05, lr_warmup_steps=3000,"
    " lr_decay_style='WSD', wsd_decay_steps=20000, lr_wsd_decay_style='exponential',"
    " start_wd=0.0, end_wd=0.1, wd_incr_style='cosine')",
    "deepspeed_warmup_cosine(total_num_steps=90000, warmup_num_steps=3333)",
    "deepspeed_one_cycle(cycle_min_lr=0.001, cycle_max_lr=0.01, cycle_first_step_size=7000,"
    " cycle_first_stair_count=4, decay_step_size=100, decay_lr_rate=0.1)",
]


@pytest.mark.parametrize("text", STRIDED, ids=lambda s: s[:30])
@pytest.mark.parametrize("steps", [10, 6000])  # plain Python, then the compiled kernel
def test_a_stride_picks_every_kth_entry_of_the_table(text, steps):
    spec = lrcore.parse(text)
    base = 1.0 if spec.absolute else 0.3
    full = lrcore.table(spec, 100_000, base)
    assert np.array_equal(
        lrcore.table(spec, steps, base, start=17, stride=13), full[17::13][:steps]
    )
    if spec.has_weight_decay:
        wd = lrcore.table(spec, 100_000, quantity="weight_decay")
        strided = lrcore.table(spec, steps, start=5, stride=11, quantity="weight_decay")
        assert np.array_equal(strided, wd[5::11][:steps])


def test_a_stride_needs_a_schedule_of_the_step_alone():
    with pytest.raises(ValueError, match="stride must be 1 for cosine_annealing"):
        lrcore.table(COS, 10, stride=2)
    with pytest.raises(ValueError, match="stride must be 1 for sequential"):
        lrcore.table(
            "sequential([deepspeed_warmup_cosine(total_num_steps=9),"
            " deepspeed_warmup_cosine(total_num_steps=9)], milestones=[5])",
            4,
            stride=2,
        )
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        lrcore.table(STRIDED[0], 10, stride=0)
    with pytest.raises(ValueError, match=r"start \+ \(steps - 1\) \* stride \+ 1 must be at most"):
        lrcore.table(STRIDED[0], 10, start=2**53 - 20, stride=3)


@pytest.mark.parametrize("parallel", [False, True])
def test_closed_tables_count_what_overflows_as_they_are_written(monkeypatch, parallel):
    """The closed kernels count the entries that are not finite as they write them: a
    finite table is not read again, one that overflows (in any chunk, serial or
    parallel) is refused naming the first step, as the torch numerics' check does."""
    import contextlib
    import sys

    from lrcore import kernels

    module = sys.modules["lrcore.table"]
    calls = []
    real = module._finite
    monkeypatch.setattr(module, "_finite", lambda *a: calls.append(a) or real(*a))
    context = kernels.parallel_now() if parallel else contextlib.nullcontext()
    with context:
        lrcore.table("cosine_annealing(T_max=50000)", 100_000, numerics="closed")
        assert calls == []  # counted in the kernels: no second pass
        # gamma**t passes float64's largest value at t = 709 / log(1.001) ~ 710,000
        with pytest.raises(ValueError, match="exponential is not finite from step 710138 on"):
            lrcore.table("exponential(gamma=1.001)", 20_000, start=700_000, numerics="closed")
        assert len(calls) == 1
        lrcore.table("exponential(gamma=1.001)", 100_000, numerics="torch")
        assert len(calls) == 2  # the recurrences are checked after the run


#: specs that overflow part-way, one for each way a closed kernel writes: a block of one
#: value (first leaf, and a later leaf's product), a factor table, the annealing, a
#: pointwise family's value step by step, a staircase of runs, a user function
OVERFLOWING = [
    "step(step_size=1000, gamma=1e200)",
    "multi_step(milestones=[30000, 40000], gamma=1e300)",
    "chained([exponential(gamma=1.0001), step(step_size=2000, gamma=1e100)])",
    "exponential(gamma=1.02)",
    "chained([exponential(gamma=1.02), cosine_annealing(T_max=100000)])",
    "optax_exponential_decay(init_value=1.0, transition_steps=1, decay_rate=1.02)",
    "optax_exponential_decay(init_value=1.0, transition_steps=1000, decay_rate=1e100, "
    "staircase=True)",
    "lambda(lr_lambda=_overflowing)",
]


def _overflowing(e):
    return 1e300 if e < 45_000 else math.inf


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("text", OVERFLOWING)
def test_each_closed_writer_counts_what_it_writes(text, parallel):
    """Whichever loop wrote it, the first entry that is not finite is the step the
    refusal names (compared with the table itself, check_finite=False)."""
    import contextlib

    from lrcore import kernels

    spec = lrcore.parse(text) if "_overflowing" not in text else lrcore.Lambda(_overflowing)
    context = kernels.parallel_now() if parallel else contextlib.nullcontext()
    with context:
        raw = lrcore.table(spec, 60_000, numerics="closed", check_finite=False)
        first = int(np.flatnonzero(~np.isfinite(raw))[0])
        assert 0 < first < 60_000
        with pytest.raises(ValueError, match=f"is not finite from step {first} on"):
            lrcore.table(spec, 60_000, numerics="closed")
        lrcore.table(spec, first, numerics="closed")  # the finite part is served
