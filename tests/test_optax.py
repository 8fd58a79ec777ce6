"""optax's schedules against optax itself (installed by the dev set-up): every
``optax_*`` spec of the catalogue, built again with optax's own functions from the same
parameters, equals lrcore's table bit for bit when optax computes in float64 one count
at a time (in a fresh process: ``jax_enable_x64`` is set at start-up, and jax's threads
stay out of the tests that fork). The closed numerics equal it too, but for cosine
stretches written by angle addition: there within their contract (1e-12 relative, or
the rounding of optax's own ``(1 + cos x) / 2`` where it cancels near the bottom)."""

import json
import textwrap

from catalogue import FRAMEWORKS
from fresh import python_json

import lrcore

SPECS = [s for s in FRAMEWORKS if s.startswith("optax_")]
STEPS = 1300  # every catalogue schedule has settled by then

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np, optax
    import lrcore

    FUNCTIONS = {  # lrcore's name -> optax's function
        "optax_constant": optax.constant_schedule,
        "optax_linear": optax.linear_schedule,
        "optax_polynomial": optax.polynomial_schedule,
        "optax_exponential_decay": optax.exponential_decay,
        "optax_cosine_decay": optax.cosine_decay_schedule,
        "optax_piecewise_constant": optax.piecewise_constant_schedule,
        "optax_piecewise_interpolate": optax.piecewise_interpolate_schedule,
        "optax_linear_onecycle": optax.linear_onecycle_schedule,
        "optax_cosine_onecycle": optax.cosine_onecycle_schedule,
        "optax_warmup_constant": optax.warmup_constant_schedule,
        "optax_warmup_cosine_decay": optax.warmup_cosine_decay_schedule,
        "optax_warmup_exponential_decay": optax.warmup_exponential_decay_schedule,
        "optax_sgdr": optax.sgdr_schedule,
        "optax_join": optax.join_schedules,
    }

    def arguments(d):
        # a spec's dict as optax's keyword arguments
        out = {}
        for key, value in d.items():
            if key == "name":
                continue
            if key == "boundaries_and_scales" and value is not None:
                value = {b: s for b, s in value}
            elif key == "schedules":
                value = [build(child) for child in value]
            elif key == "cosine_kwargs":
                value = [arguments(child) for child in value]
            out[key] = value
        return out

    def build(d):
        return FUNCTIONS[d["name"]](**arguments(d))

    steps = int(sys.argv[1])
    results = []
    for text, exported in zip(json.loads(sys.argv[2]), json.loads(sys.argv[3])):
        spec = lrcore.parse(text)
        schedule = build(spec.to_dict())
        theirs = np.array([float(schedule(t)) for t in range(steps)])
        row = []
        ours = lrcore.table(spec, steps)
        row.append([int(i) for i in np.flatnonzero(ours != theirs)[:5]])
        closed = lrcore.table(spec, steps, numerics="closed")
        # (1 + cos x) / 2 in float64 is off by up to 2**-53 of the peak (cos rounds to
        # 2**-53 near -1): the closed form's cos(x/2)**2 is nearer the exact value there
        slack = 1e-12 * np.abs(theirs) + 2.0**-50 * np.abs(theirs).max()
        row.append([int(i) for i in np.flatnonzero(np.abs(closed - theirs) > slack)[:5]])
        # lrcore convert --to optax's code, run as it is (every 7th count)
        namespace = {}
        exec(exported, namespace)
        sampled = np.array([float(namespace["schedule"](t)) for t in range(0, steps, 7)])
        row.append([7 * int(i) for i in np.flatnonzero(sampled != theirs[::7])[:5]])
        results.append(row)
    nearest = []  # convert --to optax's nearest expressions, run as they are
    for code, steps in json.loads(sys.argv[4]):
        namespace = {}
        exec(code, namespace)
        nearest.append([float(namespace["schedule"](t)) for t in range(steps)])
    names = sorted(n for n in dir(optax.schedules) if not n.startswith("_"))
    import inspect  # each function's parameters without defaults, in order
    required = {
        f.__name__: [p.name for p in inspect.signature(f).parameters.values()
                     if p.default is p.empty]
        for f in FUNCTIONS.values()
    }
    print(json.dumps({"results": results, "names": names, "required": required,
                      "nearest": nearest}))
    """
)


def _run():
    from lrcore.convert import to_framework

    exported = [to_framework(s, "optax").artifact for s in SPECS]
    nearest = [[to_framework(s, "optax", base_lr=0.1, steps=n).artifact, n] for s, n in NEAREST]
    return python_json(
        SCRIPT, str(STEPS), json.dumps(SPECS), json.dumps(exported), json.dumps(nearest)
    )


#: schedules optax has no equal of, and the steps their nearest expressions are fitted over
NEAREST = [
    ("cosine_annealing_warm_restarts(T_0=50, T_mult=2)", 350),
    ("timm_cosine(t_initial=200, warmup_t=10, cycle_limit=2)", 400),
    ("multi_step(milestones=[30, 80], gamma=0.5)", 120),
]


def test_every_optax_schedule_is_optaxs_float64_bits_and_every_function_has_a_spec():
    out = _run()
    results = out["results"]
    # optax's own function, lrcore's two numerics and `convert --to optax`'s code agree
    differing = {text: row for text, row in zip(SPECS, results) if row != [[], [], []]}
    assert differing == {}
    assert len(results) == len(SPECS) == 18

    covered = {
        "constant_schedule",
        "linear_schedule",
        "polynomial_schedule",
        "exponential_decay",
        "cosine_decay_schedule",
        "piecewise_constant_schedule",
        "piecewise_interpolate_schedule",
        "linear_onecycle_schedule",
        "cosine_onecycle_schedule",
        "warmup_constant_schedule",
        "warmup_cosine_decay_schedule",
        "warmup_exponential_decay_schedule",
        "sgdr_schedule",
        "join_schedules",
    }
    names = set(out["names"])
    assert covered <= names
    # lrcore convert reads optax's calls with positional arguments in optax's order
    from lrcore.convert import _required
    from lrcore.family import names as own_names

    assert {n: _required(c) for n, c in own_names("optax").items()} == out["required"]
    # convert --to optax's nearest expressions, in jax (float64), within what they state
    from lrcore.convert import to_framework
    from lrcore.nearest import relative_difference

    for (text, n), got in zip(NEAREST, out["nearest"]):
        stated = to_framework(text, "optax", base_lr=0.1, steps=n).max_rel_diff
        assert stated <= 1e-4
        assert (
            relative_difference(got, lrcore.table(lrcore.parse(text), n, 0.1))
            <= stated * (1 + 1e-9) + 1e-15
        ), text
    # the rest of optax.schedules is not a schedule of the step: types and injection
    assert names - covered <= {
        "Schedule",
        "StatefulSchedule",
        "WrappedSchedule",
        "InjectHyperparamsState",
        "InjectStatefulHyperparamsState",
        "inject_hyperparams",
        "inject_stateful_hyperparams",
    }
