"""Families are declared once (lrcore.family) and every layer reads the declarations.

The proof: a toy family declared in a module of its own, in a temporary folder, is
found by ``lrcore.table`` (both numerics), the C ABI, ``lrcore warmup``, ``lrcore
bench`` and the gallery, with no file of lrcore's changed. It runs in a fresh process
(the declaration would otherwise stay in this one) with an empty kernel cache.
"""

import textwrap

import pytest
from fresh import python_json

import lrcore
from lrcore import family

TOY = textwrap.dedent(
    '''
    """A toy family: base * (1 - t / horizon) ** 2 down to floor, then floor."""
    import math
    from dataclasses import dataclass

    from lrcore import _validate as v
    from lrcore.family import Family, declare, offsets
    from lrcore.kernels import njit
    from lrcore.schedules.leaf import Leaf

    P = offsets(("horizon", "floor"))


    @dataclass(frozen=True)
    class Toy(Leaf):
        horizon: int
        floor: float = 0.0
        name = "toy_square"

        def __post_init__(self):
            v.integer(self.name, "horizon", self.horizon, minimum=1)

        def params(self, quantity="lr"):
            return [self.horizon, self.floor]


    @njit(cache=True)
    def toy_value(code, p, base, t):
        x = 1.0 - t / code[p + P.horizon]
        if x < 0.0:
            x = 0.0
        value = base * (x * x)
        return max(value, code[p + P.floor])


    declare(
        Family(
            name="toy_square",
            code=60,
            framework="toys",
            specs=(Toy,),
            layout=P._fields,
            value=toy_value,
            samples=lambda steps: {"toy_square": Toy(horizon=max(steps // 2, 1), floor=0.01)},
            events=lambda spec, steps: [spec.horizon],
        )
    )
    '''
)

PROBE = textwrap.dedent(
    """
    import io, json, sys, contextlib
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import lrcore
    import toy_family  # the declaration: nothing else of lrcore's knows it

    from lrcore import bench, cli, plotting

    spec = lrcore.parse("toy_square(horizon=300, floor=0.05)")
    t = np.arange(5000)
    want = np.maximum(0.2 * np.clip(1.0 - t / 300, 0.0, None) ** 2, 0.05)
    out = {"parsed": type(spec).__name__}
    # both numerics, served as plain Python (a small table) and compiled (a long one)
    for numerics in ("torch", "closed"):
        small = lrcore.table(spec, 1000, 0.2, numerics=numerics)
        big = lrcore.table(spec, 5000, 0.2, numerics=numerics)
        out[numerics] = bool(np.array_equal(small, want[:1000]) and np.array_equal(big, want))
    # in a composition, after another family's segment
    seq = lrcore.parse("sequential([constant(factor=0.5, total_iters=3), toy_square(horizon=300)],"
                       " milestones=[10])")
    out["composed"] = float(lrcore.table(seq, 20, 1.0)[15])
    # the C ABI: a handle of the toy family, filled through its own entry points
    from lrcore import cabi
    handle = cabi.Schedule(spec, 0.2)
    ffi = cabi.ffi()
    buf = np.full(4000, np.nan)
    fill = ffi.cast("lrcore_fill_fn", handle.fill_address())
    rc = fill(handle.handle(), ffi.cast("double *", buf.ctypes.data), 1000, 4000)
    out["cabi"] = bool(rc == 0 and np.array_equal(buf, want[1000:]))
    every = cabi.every_family()
    out["cabi_every"] = bool(every >> 60 & 1)
    # lrcore warmup names it and compiles it
    words = io.StringIO()
    with contextlib.redirect_stdout(words):
        cli.main(["warmup", "toy_square", "--numerics", "torch"])
    out["warmup"] = words.getvalue()
    out["warmup_names"] = sorted(cli.warmup_specs())
    # bench runs its sample
    rows = bench.run(2000, torch_steps=10)
    out["bench"] = [r.family for r in rows if r.family == "toy_square"]
    # the gallery draws it, with its markers
    figs = [f for f in plotting.figures() if f[0].startswith("toys-")]
    out["gallery"] = [f[0] for f in figs]
    out["events"] = plotting.events(spec, 1000)
    print(json.dumps(out))
    """
)


def test_a_family_declared_elsewhere_is_found_by_every_layer(tmp_path):
    (tmp_path / "toy_family.py").write_text(TOY)
    cache = tmp_path / "cache"
    out = python_json(PROBE, str(tmp_path), timeout=600, LRCORE_CACHE_DIR=str(cache))
    assert out["parsed"] == "Toy"
    assert out["torch"] and out["closed"]
    assert out["composed"] == (1.0 - 5 / 300) ** 2
    assert out["cabi"] and out["cabi_every"]
    assert "toy_square" in out["warmup"] and "toy_square" in out["warmup_names"]
    assert out["bench"] == ["toy_square"]
    assert out["gallery"] == ["toys-toy_square.png"]
    assert out["events"] == [300]
    # its kernels were compiled under names of their own (a hash of its file)
    names = [p.name for p in cache.rglob("*.nbi")]
    assert any("toy_value" in n for n in names), names


def test_declarations_refuse_a_taken_code_or_name():
    step = family.named("step")
    with pytest.raises(ValueError, match="code 1 is taken by 'step'"):
        family.declare(family.Family(name="other", code=1, framework="x", specs=(), value=object()))
    with pytest.raises(ValueError, match="'step' is declared already"):
        family.declare(family.Family(name="step", code=61, framework="x", specs=(), value=object()))
    with pytest.raises(ValueError, match=r"code must be an int in \[1, 62\]"):
        family.declare(family.Family(name="x", code=63, framework="x", specs=(), value=object()))
    with pytest.raises(ValueError, match="declare value= .* or both get_lr= and closed="):
        family.declare(family.Family(name="x", code=61, framework="x", specs=()))
    f, v = object(), object()
    for kw, match in (
        (dict(get_lr=f, closed=f, pieces=f), "'x': pieces= goes with value= and no closed="),
        (dict(value=v, closed=f, runs=f), "'x': runs= goes with value= and no closed="),
        (dict(value=v, runs=f, pieces=f), "'x': declare runs= or pieces=, not both"),
    ):
        with pytest.raises(ValueError, match=match):
            family.declare(family.Family(name="x", code=61, framework="x", specs=(), **kw))
    assert family.named("step") is step and 61 not in family.FAMILIES


def test_every_spec_class_belongs_to_a_declared_family():
    """A leaf spec whose kind no declaration gives would reach the kernels unknown."""
    from lrcore.schedules.leaf import Leaf

    for name, cls in lrcore.REGISTRY.items():
        if issubclass(cls, Leaf):
            assert cls.family is family.of(cls.kind), name


def test_the_flags_are_the_declarations():
    """What lowering and the drivers read: the torch families that multiply the LR
    (chainable factors) and the pointwise families, from the declarations alone."""
    multiplying = {f.name for f in family.declared() if not f.overwriting}
    assert multiplying == {
        "step",
        "multi_step",
        "constant",
        "linear",
        "exponential",
        "polynomial",
        "cosine_annealing",
        "multiplicative",
    }
    pointwise = {f.name for f in family.declared() if f.pointwise}
    assert {"deepspeed", "megatron", "optax", "keras", "fairseq"} <= pointwise
    assert {"timm_step", "timm_multistep", "timm_wsd"} <= pointwise
