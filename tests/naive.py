"""Loop-based references written from the formulas in the docstrings.

Plain Python, one step at a time, no lrcore code. ``closed(spec, t, base)`` is
the schedule's closed form; the ``*_loop`` functions walk restarts the slow way.
Cosines are evaluated with mpmath at 40 digits from the exact ratio ``t / T``
(``1 + cos x`` cancels near ``x = pi``, so a float64 reference would be the
least accurate party in a comparison).
"""

from __future__ import annotations

import bisect
import functools
import math
from fractions import Fraction

import mpmath

mpmath.mp.dps = 40


def restarts_loop_int(T_0: int, T_mult: int, steps: int):
    """(cycle index, T_cur, T_i) per step by torch's own recurrence."""
    out = []
    i, t_cur, t_i = 0, 0, T_0
    for _ in range(steps):
        out.append((i, t_cur, t_i))
        t_cur += 1
        if t_cur >= t_i:
            t_cur -= t_i
            t_i *= T_mult
            i += 1
    return out


def restart_boundary_float(T_0: float, m: float, i: int) -> float:
    return T_0 * (math.pow(m, i) - 1.0) / (m - 1.0)


def restarts_loop_float(T_0: float, m: float, steps: int):
    """(cycle index, T_cur, T_i) per step, walking the boundaries B_i one by one."""
    out = []
    i = 0
    nxt = restart_boundary_float(T_0, m, 1)
    for t in range(steps):
        while nxt <= t:
            i += 1
            nxt = restart_boundary_float(T_0, m, i + 1)
        start = restart_boundary_float(T_0, m, i)
        out.append((i, t - start, T_0 * math.pow(m, i)))
    return out


def one_plus_cos_pi(ratio) -> float:
    """(1 + cos(pi * ratio)) / 2 for an exact ratio, correctly rounded to float64."""
    r = Fraction(ratio)
    return _one_plus_cos_pi(r.numerator, r.denominator)


@functools.lru_cache(maxsize=1 << 19)
def _one_plus_cos_pi(numerator: int, denominator: int) -> float:
    # (the same ratios recur across the specs one worker checks: remembered, not recomputed)
    return float((1 + mpmath.cos(mpmath.pi * mpmath.mpf(numerator) / denominator)) / 2)


def cos_anneal(eta_min, peak, t_cur, t_i):
    return eta_min + (peak - eta_min) * one_plus_cos_pi(Fraction(t_cur) / Fraction(t_i))


def closed(spec, t: int, base: float) -> float:
    """The closed form of a single (leaf) schedule at step ``t``."""
    name = spec.name
    if name == "step":
        return base * spec.gamma ** (t // spec.step_size)
    if name == "multi_step":
        return base * spec.gamma ** bisect.bisect_right(sorted(spec.milestones), t)
    if name == "constant":
        return base * (spec.factor if t < spec.total_iters else 1.0)
    if name == "linear":
        f = (
            spec.start_factor
            + (spec.end_factor - spec.start_factor) * min(t, spec.total_iters) / spec.total_iters
        )
        return base * f
    if name == "exponential":
        return base * spec.gamma**t
    if name == "polynomial":
        return base * (1 - min(t, spec.total_iters) / spec.total_iters) ** spec.power
    if name == "cosine_annealing":
        return cos_anneal(spec.eta_min, base, t, spec.T_max)
    if name == "cosine_annealing_warm_restarts":
        if isinstance(spec.T_mult, int):
            i, t_cur, t_i = restarts_loop_int(spec.T_0, spec.T_mult, t + 1)[t]
        else:
            i, t_cur, t_i = restarts_loop_float(spec.T_0, spec.T_mult, t + 1)[t]
        return cos_anneal(spec.eta_min, base * spec.decay**i, t_cur, t_i)
    if name == "cyclic":
        up = spec.step_size_up
        down = spec.step_size_down or up
        cycle = 1 + t // (up + down)
        x = t - (cycle - 1) * (up + down)
        h = x / up if x <= up else 1 - (x - up) / down
        scale = {"triangular": 1.0, "triangular2": 0.5 ** (cycle - 1), "exp_range": spec.gamma**t}[
            spec.mode
        ]
        return spec.base_lr + (spec.max_lr - spec.base_lr) * h * scale
    if name == "one_cycle":
        initial = spec.max_lr / spec.div_factor
        low = initial / spec.final_div_factor
        total = spec.total
        if spec.three_phase:
            ends = [spec.pct_start * total - 1, 2 * spec.pct_start * total - 2, total - 1]
            values = [initial, spec.max_lr, initial, low]
        else:
            ends = [spec.pct_start * total - 1, total - 1]
            values = [initial, spec.max_lr, low]
        start = 0.0
        for k, end in enumerate(ends):
            if t <= end or k == len(ends) - 1:
                pct = (t - start) / (end - start)
                a, b = values[k], values[k + 1]
                if spec.anneal_strategy == "linear":
                    return a + (b - a) * pct
                exact = (Fraction(t) - Fraction(start)) / (Fraction(end) - Fraction(start))
                return b + (a - b) * one_plus_cos_pi(exact)
            start = end
    if name == "stable":
        return base
    if name == "linear_decay":
        return base * max(0.0, (spec.decay_steps - t) / max(1, spec.decay_steps))
    if name == "cosine_decay":
        p = (t + spec.progress_offset) / max(1, spec.decay_steps)
        f = one_plus_cos_pi(2 * spec.num_cycles * p)
        return base * (f * (1 - spec.min_lr_rate) + spec.min_lr_rate)
    if name == "cosine_hard_restarts":
        p = t / max(1, spec.decay_steps)
        return 0.0 if p >= 1 else base * one_plus_cos_pi((spec.num_cycles * p) % 1.0)
    if name == "polynomial_decay":
        if t > spec.decay_steps:
            return base * spec.lr_end / spec.lr_init
        rest = (1 - t / spec.decay_steps) ** spec.power
        return base * ((spec.lr_init - spec.lr_end) * rest + spec.lr_end) / spec.lr_init
    if name == "inverse_sqrt":
        return base / math.sqrt((t + spec.timescale) / spec.timescale)
    if name.startswith("timm_"):
        return timm(spec, t, base)
    if name.startswith("deepspeed_"):
        return deepspeed(spec, t, base)
    if name == "megatron":
        return megatron(spec, t)
    if name.startswith("fairseq_"):
        return fairseq(spec, t)
    if name == "lambda":
        return base * spec.lr_lambda(t)
    if name == "multiplicative":
        value = base
        for k in range(1, t + 1):
            value *= spec.lr_lambda(k)
        return value
    raise AssertionError(name)


def table(spec, n: int, base: float = 1.0) -> list[float]:
    """``closed(spec, t, base)`` for ``t < n``, walking restarts and products once."""
    if spec.name == "cosine_annealing_warm_restarts":
        if isinstance(spec.T_mult, int):
            cycles = restarts_loop_int(spec.T_0, spec.T_mult, n)
        else:
            cycles = restarts_loop_float(spec.T_0, spec.T_mult, n)
        return [cos_anneal(spec.eta_min, base * spec.decay**i, c, t_i) for i, c, t_i in cycles]
    if spec.name == "multiplicative":
        out, value = [], base
        for t in range(n):
            if t:
                value *= spec.lr_lambda(t)
            out.append(value)
        return out
    if spec.name == "warmup":
        w = spec.warmup_steps
        head = [_warmup_factor(spec, t) * base for t in range(min(w, n))]
        return head + (table(spec.schedule, n - w, base) if n > w else [])
    if spec.name == "wsd":
        w, st, d, m = spec.warmup_steps, spec.stable_steps, spec.decay_steps, spec.min_lr_ratio
        out = []
        for t in range(n):
            if t < w:
                p = t / w
                f = {
                    "linear": p,
                    "cosine": (1 - math.cos(math.pi * p)) / 2,
                    "1-sqrt": 1 - math.sqrt(1 - p),
                }[spec.warmup_type]
            elif t < w + st:
                out.append(base)
                continue
            elif t < w + st + d:
                p = (t - w - st) / d
                f = {
                    "linear": 1 - p,
                    "cosine": one_plus_cos_pi(2 * spec.num_cycles * p),
                    "1-sqrt": 1 - math.sqrt(p),
                }[spec.decay_type]
            else:
                out.append(base * m)
                continue
            out.append(base * (f * (1 - m) + m))
        return out
    if spec.name.startswith("optax_"):
        return [optax(spec, t) for t in range(n)]
    if spec.name.startswith("keras_"):
        return [keras(spec, t) for t in range(n)]
    if spec.name == "sequential":
        starts = (0,) + tuple(spec.milestones)
        out = []
        for k, child in enumerate(spec.schedulers):
            stop = starts[k + 1] if k + 1 < len(starts) else n
            if stop > starts[k]:
                out += table(child, min(stop, n) - starts[k], base)
        return out[:n]
    if spec.name == "chained":
        # each schedule applied in turn; those computed from the base LR restart the chain
        values = [base] * n
        for child in spec.schedulers:
            if child.name in ("lambda", "cosine_annealing_warm_restarts"):
                values = table(child, n, base)
            elif child.name == "multiplicative":  # closed(), one running product: O(n)
                product, out = 1.0, []
                for t, v in zip(range(n), values):
                    if t:
                        product *= child.lr_lambda(t)
                    out.append(v * product)
                values = out
            else:
                values = [closed(child, t, v) for t, v in zip(range(n), values)]
        return values
    return [closed(spec, t, base) for t in range(n)]


def _warmup_factor(spec, t):
    w, m = spec.warmup_steps, spec.min_lr_ratio
    kind = spec.warmup_type
    if kind == "linear_plus_one":
        return (t + 1) / w
    if kind == "linear_from":
        r = spec.warmup_lr_rate
        return r + (1 - r) * t / max(1, w - 1)
    p = t / w
    f = {"linear": p, "cosine": (1 - math.cos(math.pi * p)) / 2, "1-sqrt": 1 - math.sqrt(1 - p)}[
        kind
    ]
    return f * (1 - m) + m


def timm_cycle(e: int, T: int, m: float, limit: int) -> int:
    """The cycle holding step ``e``: the largest i with T (m^i - 1)/(m - 1) <= e, in
    fractions of the decimal ``m`` (0.8 is 4/5), a start within a relative 1e-12 of
    ``e`` counting as ``e`` (lrcore's documented rule); past ``limit``: ``limit``."""
    q = Fraction(str(m))
    if q == 1:
        return min(e // T, limit)
    near = e + Fraction(1, 10**12) * max(e, 1)
    i = 0
    while i < limit and T * (q ** (i + 1) - 1) / (q - 1) <= near:
        i += 1
    return i


def timm_noise(seed: int, std: float, pct: float) -> float:
    """timm's noise as timm draws it, from torch's generator."""
    import torch

    g = torch.Generator()
    g.manual_seed(int(seed))
    while True:
        n = torch.randn(1, generator=g).item() * std
        if abs(n) < pct:
            return n


def timm(spec, t: int, base: float) -> float:
    """timm's cosine / tanh / poly (lrcore.schedules.timm's docstring), 40 digits."""
    t = int(t)
    T, m, limit, W = spec.t_initial, spec.cycle_mul, spec.cycle_limit, spec.warmup_t
    lr_min = mpmath.mpf(spec.lr_min)

    def cycles(e):
        i = timm_cycle(e, T, m, limit)
        if i >= limit:
            return lr_min
        q = Fraction(str(m))
        start = Fraction(e - i * T) if q == 1 else max(e - T * (q**i - 1) / (q - 1), 0)
        r = mpmath.mpf(start.numerator) / start.denominator / (T * mpmath.mpf(m) ** i)
        peak = mpmath.mpf(base) * mpmath.mpf(spec.cycle_decay) ** i
        if spec.name == "timm_cosine":
            shape = (1 + mpmath.cos(mpmath.pi * r**spec.k_decay)) / 2
        elif spec.name == "timm_tanh":
            shape = (1 - mpmath.tanh(spec.lb * (1 - r) + spec.ub * r)) / 2
        else:
            shape = (1 - r**spec.k_decay) ** spec.power
        return lr_min + (peak - lr_min) * shape

    if t < W:
        target = base
        if spec.name == "timm_tanh" and not spec.warmup_prefix:
            target = cycles(W)
        value = spec.warmup_lr_init + t * (mpmath.mpf(target) - spec.warmup_lr_init) / W
    else:
        value = cycles(t - W if spec.warmup_prefix else t)
    noise = spec.noise_range_t
    if noise is not None:
        lo, hi = (noise, math.inf) if isinstance(noise, int) else noise
        if lo <= t < hi:
            value *= 1 + timm_noise(spec.noise_seed + t, spec.noise_std, spec.noise_pct)
    return float(value)


def deepspeed(spec, t: int, base: float) -> float:
    """DeepSpeed's schedules (lrcore.schedules.deepspeed's docstring): index t is the
    value at DeepSpeed's last_batch_iteration = t - 1, fractions exact."""
    name, i = spec.name, t - 1
    if name == "deepspeed_lr_range_test":
        x = Fraction(t, spec.lr_range_test_step_size)
        if spec.lr_range_test_staircase:
            x = Fraction(math.floor(x))
        return spec.lr_range_test_min_lr * (1 + spec.lr_range_test_step_rate * float(x))
    if name == "deepspeed_one_cycle":
        return deepspeed_one_cycle(spec, t, "lr")
    W = max(2, spec.warmup_num_steps)

    def warm(i):
        if spec.warmup_type == "log":
            return float(mpmath.log(i + 1) / mpmath.log(W))
        return float(Fraction(i, W))

    if name == "deepspeed_warmup_cosine":
        if i < 0:
            return 0.0
        r0, rc = spec.warmup_min_ratio, spec.cos_min_ratio
        if i < W:
            return base * (r0 + (1 - r0) * warm(i))
        p = min(Fraction(1), Fraction(i - W + 1, max(1, spec.total_num_steps - W)))
        return base * max(0.0, rc + (1 - rc) * one_plus_cos_pi(p))
    lo, hi = spec.warmup_min_lr, spec.warmup_max_lr
    if i < 0:
        return lo
    if i < W:
        f = warm(i)
    elif name == "deepspeed_warmup":
        f = 1.0
    else:
        f = float(max(0, Fraction(spec.total_num_steps - i, max(1, spec.total_num_steps - W))))
    return lo + (hi - lo) * f


def deepspeed_one_cycle(spec, t: int, quantity: str) -> float:
    """OneCycle: a triangle up cycle_first_step_size steps and down the second, in
    stairs when counted, then the decay; momentum runs the other way."""
    first = Fraction(spec.cycle_first_step_size)
    second = first if spec.cycle_second_step_size is None else Fraction(spec.cycle_second_step_size)
    total = first + second
    if quantity == "lr":
        lo, hi, rate = spec.cycle_min_lr, spec.cycle_max_lr, spec.decay_lr_rate
    else:
        lo, hi, rate = spec.cycle_min_mom, spec.cycle_max_mom, spec.decay_mom_rate
    if t == 0:
        return lo
    if t - 1 < total:
        at = Fraction(t) % total
        up = at <= first
        h = at / first if up else (total - at) / second
        stairs = spec.cycle_first_stair_count
        if not up and spec.cycle_second_stair_count is not None:
            stairs = spec.cycle_second_stair_count
        if stairs:
            h = Fraction(math.floor(h * stairs), stairs)
        return hi - (hi - lo) * float(h) if quantity == "momentum" else lo + (hi - lo) * float(h)
    if spec.decay_step_size == 0 or rate == 0:
        return hi if quantity == "momentum" else lo
    factor = 1 + rate * float((t - total) / Fraction(spec.decay_step_size))
    return hi * factor if quantity == "momentum" else lo / factor


def megatron(spec, t: int, quantity: str = "lr") -> float:
    """Megatron-Core's LR (or weight decay) at num_steps = t (lrcore.schedules.megatron's
    docstring), ratios exact, roots and cosines at 40 digits."""
    if quantity == "weight_decay":
        steps = spec.wd_incr_steps or spec.lr_decay_steps
        if t > steps or spec.wd_incr_style == "constant":
            return spec.end_wd
        r = Fraction(t, steps)
        c = float(r) if spec.wd_incr_style == "linear" else one_plus_cos_pi(1 - r)
        return spec.start_wd + c * (spec.end_wd - spec.start_wd)
    W, D = spec.lr_warmup_steps, spec.lr_decay_steps
    top, low = spec.max_lr, spec.min_lr
    if W > 0 and t <= W:
        return spec.init_lr + (top - spec.init_lr) * float(Fraction(t, W))
    if spec.lr_decay_style == "constant":
        return top
    if t > D:
        return low
    if spec.lr_decay_style == "inverse-square-root":
        return max(low, float(top * mpmath.sqrt(max(W, 1)) / mpmath.sqrt(max(t, 1))))
    style, r = spec.lr_decay_style, Fraction(t - W, D - W)
    if style == "WSD":
        S = spec.wsd_decay_steps
        if t <= D - S:
            return top
        style, r = spec.lr_wsd_decay_style, Fraction(t - (D - S), S)
    c = {
        "linear": lambda: float(1 - r),
        "cosine": lambda: one_plus_cos_pi(r),
        "exponential": lambda: float(
            2 * mpmath.power(mpmath.mpf(0.5), mpmath.mpf(r.numerator) / r.denominator) - 1
        ),
        "minus_sqrt": lambda: float(1 - mpmath.sqrt(mpmath.mpf(r.numerator) / r.denominator)),
    }[style]()
    return low + c * (top - low)


def optax(spec, t: int) -> float:
    """optax's schedules (lrcore.schedules.optax's docstring) at count t: joins as
    where() chains, ratios exact, cosines at 40 digits, powers in plain floats."""
    name = spec.name
    if name == "optax_join":
        out = optax(spec.schedules[0], t)
        for boundary, child in zip(spec.boundaries, spec.schedules[1:]):
            if t >= boundary:
                out = optax(child, t - boundary)
        return out
    if name == "optax_sgdr":
        start = 0
        for k, cycle in enumerate(spec.cosine_kwargs):
            last = k == len(spec.cosine_kwargs) - 1
            if t < start + cycle.decay_steps or last:
                return optax(cycle, t - start)
            start += cycle.decay_steps
    if name == "optax_warmup_cosine_decay":
        w = spec.warmup_steps
        if t < w:
            return spec.init_value + (spec.peak_value - spec.init_value) * t / w
        alpha = 0.0 if spec.peak_value == 0 else spec.end_value / spec.peak_value
        c = min(t - w, spec.decay_steps - w)
        f = one_plus_cos_pi(Fraction(c, spec.decay_steps - w)) ** spec.exponent
        return spec.peak_value * ((1 - alpha) * f + alpha)
    if name == "optax_warmup_exponential_decay":
        w = spec.warmup_steps
        if t < w:
            return spec.init_value + (spec.peak_value - spec.init_value) * t / w
        from lrcore import OptaxExponentialDecay

        decay = OptaxExponentialDecay(
            spec.peak_value,
            spec.transition_steps,
            spec.decay_rate,
            spec.transition_begin,
            spec.staircase,
            spec.end_value,
        )  # the spec as data only: its value comes from the branch below
        return optax(decay, t - w)
    if name == "optax_constant":
        return spec.value
    if name in ("optax_linear", "optax_polynomial", "optax_warmup_constant"):
        init = spec.init_value
        end = spec.peak_value if name == "optax_warmup_constant" else spec.end_value
        steps = spec.warmup_steps if name == "optax_warmup_constant" else spec.transition_steps
        begin = max(0, getattr(spec, "transition_begin", 0))
        power = getattr(spec, "power", 1)
        if steps <= 0:
            return init
        c = min(max(t - begin, 0), steps)
        return (init - end) * float(1 - Fraction(c, steps)) ** power + end
    if name == "optax_exponential_decay":
        if spec.transition_steps <= 0 or spec.decay_rate == 0:
            return spec.init_value
        d = t - max(0, spec.transition_begin)
        p = Fraction(d, spec.transition_steps)
        if spec.staircase:
            p = Fraction(math.floor(p))
        value = spec.init_value if d <= 0 else spec.init_value * spec.decay_rate ** float(p)
        if spec.end_value is not None:
            keep = max if spec.decay_rate < 1 else min
            value = keep(value, spec.end_value)
        return value
    if name == "optax_cosine_decay":
        c = min(t, spec.decay_steps)
        f = one_plus_cos_pi(Fraction(c, spec.decay_steps)) ** spec.exponent
        return spec.init_value * ((1 - spec.alpha) * f + spec.alpha)
    if name == "optax_piecewise_constant":
        value = spec.init_value
        for boundary, scale in spec.boundaries_and_scales or ():
            if t >= boundary:
                value *= scale
        return value
    if name in ("optax_linear_onecycle", "optax_cosine_onecycle"):
        T, peak, div = spec.transition_steps, spec.peak_value, spec.div_factor
        if name == "optax_linear_onecycle":
            pairs = {
                int(spec.pct_start * T): div,
                int(spec.pct_final * T): 1 / div,
                T: 1 / spec.final_div_factor,
            }
            kind = "linear"
        else:
            pairs = {int(spec.pct_start * T): div, T: 1 / (div * spec.final_div_factor)}
            kind = "cosine"
        return _interpolate(kind, peak / div, sorted(pairs.items()), t)
    if name == "optax_piecewise_interpolate":
        return _interpolate(spec.interpolate_type, spec.init_value, spec.boundaries_and_scales, t)
    raise AssertionError(name)


def _interpolate(kind, init, pairs, t):
    bounds = [0] + [b for b, _ in pairs]
    values = [init]
    for _, scale in pairs:
        values.append(values[-1] * scale)
    if t >= bounds[-1]:
        return values[-1]
    k = max(i for i in range(len(bounds) - 1) if bounds[i] <= t)
    pct = Fraction(t - bounds[k], max(bounds[k + 1] - bounds[k], 1))
    a, b = values[k], values[k + 1]
    if kind == "linear":
        return (b - a) * float(pct) + a
    return b + (a - b) * one_plus_cos_pi(pct)


def keras(spec, t: int) -> float:
    """Keras 3's schedules (lrcore.schedules.keras's docstring) in exact arithmetic:
    ratios as fractions, cosines at 40 digits (for a float64 spec)."""
    name, lr = (
        spec.name,
        spec.initial_learning_rate if hasattr(spec, "initial_learning_rate") else 0,
    )
    if name == "keras_piecewise_constant_decay":
        b, values = spec.boundaries, spec.values
        if t <= b[0]:
            return values[0]
        for k in range(len(b) - 1):
            if b[k] < t <= b[k + 1]:
                return values[k + 1]
        return values[-1]
    if name in ("keras_exponential_decay", "keras_inverse_time_decay"):
        p = Fraction(t, spec.decay_steps)
        if spec.staircase:
            p = Fraction(math.floor(p))
        if name == "keras_exponential_decay":
            return lr * spec.decay_rate ** float(p)
        return lr / (1 + spec.decay_rate * float(p))
    if name == "keras_polynomial_decay":
        steps = spec.decay_steps
        if spec.cycle:
            steps *= 1 if t == 0 else math.ceil(Fraction(t, spec.decay_steps))
            c = t
        else:
            c = min(t, steps)
        rest = float(1 - Fraction(c, steps)) ** spec.power
        return (lr - spec.end_learning_rate) * rest + spec.end_learning_rate
    if name == "keras_cosine_decay":
        T, W, target = spec.decay_steps, spec.warmup_steps, spec.warmup_target
        if target is None:
            c, start = min(t, T), lr
        elif min(t, T + W) < W:
            return lr + (target - lr) * t / W
        else:
            c, start = min(t, T + W) - W, target
        return start * ((1 - spec.alpha) * one_plus_cos_pi(Fraction(c, T)) + spec.alpha)
    # keras_cosine_decay_restarts: cycle i lasts first * t_mul**i, peak m_mul**i
    start, length, i = 0, spec.first_decay_steps, 0
    while t >= start + length:
        start += length
        length *= spec.t_mul
        i += 1
    f = one_plus_cos_pi(Fraction(t - start) / Fraction(length))
    return lr * ((1 - spec.alpha) * spec.m_mul**i * f + spec.alpha)


def fairseq(spec, t: int) -> float:
    """fairseq's schedulers (lrcore.schedules.fairseq's docstring) at num_updates = t:
    the cosine cycles walked one by one, the stages and epochs found by counting."""
    name, lr = spec.name, spec.lr
    if name == "fairseq_fixed":
        lrs = spec.lr if isinstance(spec.lr, tuple) else (spec.lr,)
        epoch = 1 + (t // spec.updates_per_epoch if spec.updates_per_epoch else 0)
        if spec.force_anneal is None or epoch < spec.force_anneal:
            value = lrs[min(epoch, len(lrs)) - 1]
        else:
            value = lrs[-1] * spec.lr_shrink ** (epoch + 1 - spec.force_anneal)
        w = spec.warmup_updates
        return value * (t + 1) / w if t < w else value
    if name == "fairseq_polynomial_decay":
        w, total, end = spec.warmup_updates, spec.total_num_update, spec.end_learning_rate
        if 0 < w and t <= w:
            return lr * t / w
        if t >= total:
            return end
        return end + (lr - end) * (1 - (t - w) / (total - w)) ** spec.power
    if name == "fairseq_tri_stage":
        if spec.phase_ratio is None:
            w, h, d = spec.warmup_steps, spec.hold_steps, spec.decay_steps
        else:
            w, h, d = (int(spec.max_update * r) for r in spec.phase_ratio)
        low = lr * spec.init_lr_scale
        if t < w:
            return low + (lr - low) * t / w
        if t < w + h:
            return lr
        if t <= w + h + d:  # from lr down to lr * final_lr_scale over d steps
            return lr * spec.final_lr_scale ** ((t - w - h) / d)
        return lr * spec.final_lr_scale
    if name == "fairseq_triangular":
        half = spec.lr_period_updates // 2
        cycle, pos = divmod(t, 2 * half)
        shrink = spec.lr_shrink**cycle
        top = spec.max_lr * shrink
        bottom = lr * shrink if spec.shrink_min else lr
        return bottom + (top - bottom) * (1 - abs(pos - half) / half)
    # the warm-up of inverse_sqrt, step and cosine
    w = spec.warmup_updates
    low = 0.0 if name == "fairseq_inverse_sqrt" else min(spec.min_lr, lr)
    start = spec.warmup_init_lr if spec.warmup_init_lr >= 0 else low
    if t < w:
        return start + (lr - start) * t / w
    if name == "fairseq_inverse_sqrt":
        return lr * math.sqrt(w / t)
    if name == "fairseq_step":
        return max(lr * spec.lr_decay ** ((t - w) // spec.lr_deacy_period), spec.min_lr)
    # fairseq_cosine: walk the cycles
    period = spec.lr_period_updates if spec.lr_period_updates > 0 else spec.max_update - w
    c, i = t - w, 0
    while c >= period:
        c, period, i = c - period, period * spec.t_mult, i + 1
    shrink = spec.lr_shrink**i
    return low * shrink + (lr - low) * shrink * one_plus_cos_pi(c / period)
