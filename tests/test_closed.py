"""numerics="closed" against the torch numerics and the naive formulas.

The bound is 1e-12 relative wherever torch's own recurrence has not drifted
further from the formula (measured per step against tests/naive.py). Where it
has, the test says how often: torch's cosine recurrence divides two
``1 + cos`` terms that both cancel near the bottom of each cycle, so its
relative error there grows to ~1e-5 for long cycles, while the closed form
writes ``(1 + cos x)/2`` as ``cos(x/2)**2`` and stays accurate.
"""

import dataclasses

import contract
import numpy as np
import pytest
from catalogue import ABSOLUTE, FRAMEWORKS, FUNCTIONS, PEERS, RELATIVE
from naive import table as naive_table

import lrcore

N = 20_000

# Documented semantic differences, not numerical ones:
# * a chain with a cosine whose eta_min != 0: torch applies the cosine
#   recurrence to the product of the chain, which has no closed form; the
#   closed numerics apply the cosine's closed form to the product.
# * a multiplicative schedule after a milestone: torch continues from the LR of
#   the previous segment; the closed form restarts from the base LR.
SEMANTIC = {
    "chained([cosine_annealing(T_max=100, eta_min=0.1), linear(start_factor=0.2, total_iters=50)])",
}


def rel(a, b):
    """Relative difference; values below 1e-18 (of a base LR of 1) count as zero, so
    torch's exact 0 at the bottom of a cosine and the closed form's 3.7e-33
    (cos(pi/2)**2 in float64) are equal."""
    a, b = np.asarray(a), np.asarray(b)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-18)
    return np.abs(a - b) / scale


def _specs():
    out = [lrcore.parse(s) for s in RELATIVE + PEERS + ABSOLUTE + FRAMEWORKS if s not in SEMANTIC]
    # Keras's schedules in float32 round every operation on purpose (tests/test_keras.py
    # compares them with Keras itself): here in float64, against the formulas
    out = [
        dataclasses.replace(s, dtype="float64") if s.name.startswith("keras_") else s for s in out
    ]
    out += [
        f
        for f in FUNCTIONS
        if f.name != "sequential" or all(c.name != "multiplicative" for c in f.schedulers)
    ]
    return out


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: str(s)[:70])
def test_closed_agrees_with_torch_numerics(spec):
    n = N if spec.last_step() is None else min(N, spec.last_step() + 1)
    torch_num = lrcore.table(spec, n, numerics="torch")
    closed = lrcore.table(spec, n, numerics="closed")
    formula = np.array(naive_table(spec, n))
    d_closed_torch = rel(closed, torch_num)
    d_torch_formula = rel(torch_num, formula)
    # within 1e-12 of torch, or torch has itself drifted at least half as far
    # from the formula (its recurrence accumulates one rounding per step)
    explained = (d_closed_torch <= 1e-12) | (d_closed_torch <= 2 * d_torch_formula)
    assert explained.all(), np.flatnonzero(~explained)[:10]
    # and the closed form follows the formula itself, except where the formula
    # is computed with cancellation (1 + cos x near x = pi) and the closed form
    # is the more accurate of the two (see the test below)
    assert np.mean(rel(closed, formula) <= 1e-12) >= 0.99


def test_closed_is_more_accurate_than_torch_at_the_bottom_of_a_long_cosine():
    T = 1_000_000
    spec = lrcore.CosineAnnealing(T_max=T)
    t = np.arange(T - 1000, T)
    exact = np.cos(np.pi * t.astype(np.longdouble) / (2 * T)) ** 2
    closed = lrcore.table(spec, 1000, start=T - 1000, numerics="closed")
    torch_num = lrcore.table(spec, 1000, start=T - 1000)
    err_closed = np.max(np.abs(closed - exact) / exact)
    err_torch = np.max(np.abs(torch_num - exact) / exact)
    assert err_closed < 1e-9
    assert err_torch > 100 * err_closed


def _draws(rng):
    """Random specs of every family that declares ``runs`` or ``pieces`` and of timm's
    own closed form: ``(runs, stretches)``. The first are staircases (closed numerics fill
    runs of one value as blocks): stairs, boundaries, ends, warm-ups and noise; the second
    have smooth stretches the closed numerics write in one of the pieces' shapes (cosine
    by angle addition, integral powers by multiplication, square roots, tanh by its
    addition formula), between runs."""
    warm = int(rng.integers(0, 30))
    noise = [None, (int(rng.integers(0, 300)), int(rng.integers(300, 900))), 450][
        int(rng.integers(0, 3))
    ]
    common = dict(warmup_t=warm, warmup_lr_init=0.01, warmup_prefix=bool(rng.integers(0, 2)),
                  noise_range_t=noise)  # fmt: skip
    wsd = {k: v for k, v in common.items() if k != "warmup_prefix"}  # (always prefixed)
    bounds = sorted(int(x) for x in rng.integers(1, 1000, size=4))
    steps = float(rng.choice([1, 2.5, 7, 33.3, 120]))
    floatx = str(rng.choice(["float32", "float64"]))
    pick = warm % 3
    runs = [
        lrcore.TimmStep(decay_t=steps, decay_rate=0.5, **common),
        lrcore.TimmMultiStep(decay_t=bounds, decay_rate=0.7, **common),
        lrcore.parse(
            f"optax_exponential_decay(init_value=0.3, transition_steps={int(steps) + 1},"
            f" decay_rate=0.9, transition_begin={warm}, staircase=True)"
        ),
        lrcore.parse(
            f"optax_exponential_decay(init_value=0.3, transition_steps={int(steps) + 2},"
            " decay_rate=0.5, staircase=True, end_value=0.01)"
        ),
        lrcore.parse(
            "optax_piecewise_constant(init_value=0.3, boundaries_and_scales="
            f"[[{bounds[0]}, 0.5], [{bounds[2] + 1}, 0.1], [{bounds[1]}, 2.0]])"
        ),
        lrcore.parse(
            f"keras_piecewise_constant_decay(boundaries={bounds}, values=[0.3, 0.2, "
            f"0.1, 0.05, 0.01], dtype='{floatx}')"
        ),
        lrcore.parse(
            f"keras_piecewise_constant_decay(boundaries={bounds[::-1]}, values=[0.3, "
            f"0.2, 0.1, 0.05, 0.01], dtype='{floatx}')"
        ),  # unsorted: Keras takes it
        lrcore.parse(
            f"keras_exponential_decay(initial_learning_rate=0.3, decay_steps="
            f"{int(steps) + 1}, decay_rate=0.9, staircase=True, dtype='{floatx}')"
        ),
        lrcore.parse(
            f"keras_inverse_time_decay(initial_learning_rate=0.3, decay_steps="
            f"{int(steps) + 1}, decay_rate=0.5, staircase=True, dtype='{floatx}')"
        ),
        lrcore.parse(
            f"keras_polynomial_decay(initial_learning_rate=0.3, decay_steps="
            f"{bounds[0]}, dtype='{floatx}')"
        ),
        lrcore.parse(
            f"keras_cosine_decay(initial_learning_rate=0.3, decay_steps={bounds[0]}, "
            f"warmup_target={0.5 if warm % 2 else None}, warmup_steps={warm}, "
            f"dtype='{floatx}')"
        ),
        lrcore.parse(f"deepspeed_warmup(warmup_max_lr=0.3, warmup_num_steps={warm + 1})"),
        lrcore.parse(
            f"megatron(max_lr=0.3, min_lr=0.01, lr_warmup_steps={warm}, "
            f"lr_decay_steps={bounds[1] + warm}, lr_decay_style='constant')"
        ),
        lrcore.parse(
            f"fairseq_tri_stage(lr=0.3, warmup_steps={warm}, hold_steps={bounds[0]},"
            f" decay_steps={bounds[1]})"
        ),
        lrcore.TimmWSD(t_initial=bounds[2], decay_t=bounds[0], decay_fn="exp", **wsd),
    ]
    stretches = [
        lrcore.parse(f"optax_cosine_decay(init_value=0.3, decay_steps={bounds[0]})"),
        lrcore.parse(f"optax_polynomial(init_value=0.3, end_value=0.0, power={pick + 1}, "
                     f"transition_steps={bounds[0]}, transition_begin={warm})"),
        lrcore.parse(f"optax_warmup_cosine_decay(init_value=0.0, peak_value=0.3, warmup_steps="
                     f"{warm}, decay_steps={bounds[1]}, end_value={[0.0, 0.01][warm % 2]})"),
        lrcore.parse(f"deepspeed_warmup_cosine(total_num_steps={bounds[1]}, warmup_num_steps="
                     f"{warm + 1}, cos_min_ratio={[0.0, 0.1, 1.0][pick]}, warmup_type="
                     f"'{['log', 'linear'][warm % 2]}')"),
        lrcore.parse(f"deepspeed_warmup_decay(total_num_steps={bounds[1]}, warmup_max_lr=0.3,"
                     f" warmup_num_steps={warm + 1})"),
        lrcore.parse(f"megatron(max_lr=0.3, min_lr=0.01, lr_warmup_steps={warm}, "
                     f"lr_decay_steps={bounds[1] + warm}, lr_decay_style="
                     f"'{['cosine', 'linear', 'WSD'][pick]}', wsd_decay_steps={bounds[0]}, "
                     "lr_wsd_decay_style='linear')"),
        lrcore.parse(f"megatron(max_lr=0.3, min_lr=0.0, lr_warmup_steps={warm}, lr_decay_steps="
                     f"{bounds[2] + warm}, lr_decay_style='WSD', wsd_decay_steps={bounds[0]}, "
                     f"lr_wsd_decay_style='{['cosine', 'linear', 'minus_sqrt'][pick]}')"),
        lrcore.parse(f"fairseq_inverse_sqrt(lr=0.3, warmup_updates={warm + 1})"),
        lrcore.parse(f"fairseq_polynomial_decay(lr=0.3, total_num_update={bounds[2]}, "
                     f"warmup_updates={warm}, power={pick + 1}.0, end_learning_rate=0.01)"),
        lrcore.parse(f"fairseq_cosine(lr=0.3, warmup_updates={warm}, min_lr=0.001, "
                     f"lr_period_updates={steps * 40}, lr_shrink=0.7)"),
        lrcore.TimmWSD(t_initial=bounds[2], decay_t=bounds[0], lr_min=0.01 * (warm % 2),
                       decay_fn=["linear", "1-sqrt", "cosine"][pick], **wsd),
        lrcore.TimmWSD(t_initial=bounds[2], decay_t=bounds[0], stable_fn="rsqrt",
                       stable_timescale=bounds[0], decay_fn="linear", **wsd),
        lrcore.TimmCosine(t_initial=int(steps) * 30 + 7, lr_min=[0.0, 1e-3][warm % 2],
                          cycle_limit=int(rng.integers(1, 4)), cycle_decay=0.8, **common),
        lrcore.TimmTanh(t_initial=int(steps) * 30 + 7, lb=-float(pick + 5), ub=float(pick + 1),
                        lr_min=1e-3 * (warm % 2), cycle_limit=int(rng.integers(1, 4)), **common),
        lrcore.TimmPoly(t_initial=int(steps) * 30 + 7, power=float(pick + 1), lr_min=1e-3,
                        cycle_limit=int(rng.integers(1, 4)), **common),
    ]  # fmt: skip
    return runs, stretches


def test_blocks_of_one_value_are_the_values_step_by_step():
    """Families that declare ``runs`` or ``pieces`` have their closed tables filled run
    by run and stretch by stretch: every entry is still the value function's at its step
    (the torch numerics evaluate it at each step), across warm-ups, noise, stairs,
    boundaries, ends and any window; bit for bit but in the smooth stretches, which keep
    the closed contract (tests/contract.py). Every family that declares runs or pieces
    is in the draw."""
    from lrcore import kernels

    rng = np.random.default_rng(7)
    drawn = set()
    for _ in range(20):
        start = int(rng.integers(0, 400))
        runs, stretches = _draws(rng)
        for spec in runs + stretches:
            leaf = spec if hasattr(spec, "family") else spec.segments()[-1][1]  # (joins)
            drawn.add(leaf.family.name)
            base = 1.0 if spec.absolute else 0.3
            with kernels.engine("numba"):  # (the compiled kernels: the plain engine's bits)
                want = lrcore.table(spec, 1200, base, start=start)
                got = lrcore.table(spec, 1200, base, start=start, numerics="closed")
            if spec in stretches:
                assert contract.outside(got, want).size == 0, spec
            else:
                assert np.array_equal(got, want), (spec, np.flatnonzero(got != want)[:5])
    declaring = {f.name for f in lrcore.family.declared() if f.runs or f.pieces}
    assert drawn == declaring | {"timm"}


@pytest.mark.parametrize("stable", ["constant", "rsqrt"])
def test_a_wsd_warm_up_is_a_ramp_with_timms_bits(stable):
    """timm's linear warm-up (``init + t * step``) is one stretch in the closed numerics,
    written with the value function's operations: its bits, from any step of the warm-up,
    noise inside it included, and timm's own values."""
    import torch
    from timm_ref import scheduler_module

    from lrcore import kernels

    noise = (1200, 1300)
    spec = lrcore.TimmWSD(t_initial=9000, decay_t=2000, stable_fn=stable, warmup_t=5003,
                          warmup_lr_init=3e-4, noise_range_t=noise)  # fmt: skip
    for start in (0, 1, 777, 1250, 5002):
        with kernels.engine("numba"):
            want = lrcore.table(spec, 6000 - start, 0.37, start=start)
            got = lrcore.table(spec, 6000 - start, 0.37, start=start, numerics="closed")
        assert np.array_equal(got[: 5003 - start], want[: 5003 - start]), start
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.37)
    timm = scheduler_module().WSDLRScheduler(
        opt, t_initial=9000, decay_t=2000, stable_fn=stable, warmup_t=5003,
        warmup_lr_init=3e-4, noise_range_t=noise, t_in_epochs=False,
    )  # fmt: skip
    theirs = []
    for t in range(5003):
        timm.step_update(t)
        theirs.append(opt.param_groups[0]["lr"])
    assert np.array_equal(lrcore.table(spec, 5003, 0.37, numerics="closed"), theirs)


def test_inverse_square_roots_far_out_are_a_few_ulp_from_exact():
    """Past 2,048 steps a 1/sqrt stretch (fairseq's inverse_sqrt, timm's WSD with an
    rsqrt stable phase, and its linear decay after it) is a series in the step per block:
    over windows anywhere in a long run, and across the blocks' first sizes, the closed
    table keeps the contract with the framework's values (the torch numerics) and is
    within 2e-15 of the exact value (float64's 1/sqrt is within 1.1e-16)."""
    from lrcore import kernels

    rng = np.random.default_rng(3)
    warm, decay, tau = 4000, 150_000, 10_000
    specs = [
        lrcore.parse(f"fairseq_inverse_sqrt(lr=0.3, warmup_updates={warm})"),
        lrcore.TimmWSD(t_initial=400_000, decay_t=decay, stable_fn="rsqrt",
                       stable_timescale=tau, decay_fn="linear", warmup_t=10),
    ]  # fmt: skip
    starts = [0, 1000, 2040] + [int(s) for s in rng.integers(2000, 420_000, size=6)]
    for spec in specs:
        absolute = hasattr(spec, "absolute") and spec.absolute
        base = 1.0 if absolute else 0.3
        for start in starts:
            n = int(rng.integers(3000, 40_000))
            with kernels.engine("numba"):
                want = lrcore.table(spec, n, base, start=start)
                got = lrcore.table(spec, n, base, start=start, numerics="closed")
            assert contract.outside(got, want).size == 0, (spec, start)
            t = np.arange(start, start + n)
            if spec.name == "fairseq_inverse_sqrt":
                factor = np.longdouble(0.3) * np.sqrt(np.longdouble(warm))
                keep = t >= warm
                exact = factor / np.sqrt(t.astype(np.longdouble))
            else:  # base / sqrt(1 + t_s / tau), times (T - t_s) / D in the decay
                t_s = (t - 10).astype(np.longdouble)
                keep = (t >= 10) & (t_s < 400_000)
                exact = 0.3 / np.sqrt(1 + t_s / tau)
                exact = np.where(t_s > 400_000 - decay, exact * (400_000 - t_s) / decay, exact)
            err = np.abs(got[keep] - exact[keep]) / exact[keep]
            assert err.size == 0 or err.max() < 2e-15, (spec, start, err.max())


@pytest.mark.parametrize("up,down", [(2000, None), (7, 7), (3, 9), (1, None)])
def test_cyclic_closed_is_torchs_bits(up, down):
    """CyclicLR's closed table is its torch numerics bit for bit, LR and momentum, in
    every mode, from any step: where its up and down phases are equal (torch's default)
    its two divisions by 1/2 are multiplications by 2, exactly; otherwise torch's own
    three divisions."""
    from lrcore import kernels

    for mode in ("triangular", "triangular2", "exp_range"):
        spec = lrcore.Cyclic(base_lr=0.001, max_lr=0.1, step_size_up=up, step_size_down=down,
                             mode=mode, gamma=0.9999)  # fmt: skip
        for quantity in ("lr", "momentum"):
            for start in (0, 12_345):
                with kernels.engine("numba"):
                    want = lrcore.table(spec, 30_000, start=start, quantity=quantity)
                    got = lrcore.table(spec, 30_000, start=start, quantity=quantity,
                                       numerics="closed")  # fmt: skip
                assert np.array_equal(got, want), (mode, quantity, start)
