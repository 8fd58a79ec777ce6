"""Random drop-in parameters, random external edits, a random resume point:
lrsched equals torch.optim at every step (LRCORE_EXAMPLES examples, 100 by default)."""

import copy
import os
import warnings

import lrsched as L
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler as T

gamma = st.floats(0.5, 1.0)
count = st.integers(1, 300)

CLASSES = st.one_of(
    st.tuples(st.just("StepLR"), st.fixed_dictionaries({"step_size": count, "gamma": gamma})),
    st.tuples(
        st.just("MultiStepLR"),
        st.fixed_dictionaries(
            {"milestones": st.lists(st.integers(0, 500), max_size=5), "gamma": gamma}
        ),
    ),
    st.tuples(
        st.just("ConstantLR"),
        st.fixed_dictionaries({"factor": st.floats(0.01, 1.0), "total_iters": st.integers(0, 300)}),
    ),
    st.tuples(
        st.just("LinearLR"),
        st.fixed_dictionaries(
            {
                "start_factor": st.floats(0.01, 1.0),
                "end_factor": st.floats(0.0, 1.0),
                "total_iters": count,
            }
        ),
    ),
    st.tuples(st.just("ExponentialLR"), st.fixed_dictionaries({"gamma": st.floats(0.9, 1.0)})),
    st.tuples(
        st.just("PolynomialLR"),
        st.fixed_dictionaries({"total_iters": count, "power": st.floats(0.0, 3.0)}),
    ),
    st.tuples(
        st.just("CosineAnnealingLR"),
        st.fixed_dictionaries({"T_max": count, "eta_min": st.floats(0.0, 1e-3)}),
    ),
    st.tuples(
        st.just("CosineAnnealingWarmRestarts"),
        st.fixed_dictionaries(
            {"T_0": st.integers(1, 60), "T_mult": st.integers(1, 3), "eta_min": st.floats(0, 1e-3)}
        ),
    ),
    st.tuples(
        st.just("CyclicLR"),
        st.fixed_dictionaries(
            {
                "base_lr": st.floats(1e-4, 1e-2),
                "max_lr": st.floats(1e-2, 1.0),
                "step_size_up": count,
                "step_size_down": st.one_of(st.none(), count),
                "mode": st.sampled_from(["triangular", "triangular2", "exp_range"]),
                "gamma": st.floats(0.99, 1.0),
            }
        ),
    ),
    st.tuples(
        st.just("OneCycleLR"),
        st.fixed_dictionaries(
            {
                "max_lr": st.floats(1e-3, 1.0),
                "total_steps": st.integers(800, 2000),
                "pct_start": st.floats(0.05, 0.45),
                "anneal_strategy": st.sampled_from(["cos", "linear"]),
                "three_phase": st.booleans(),
            }
        ),
    ),
)


def run(lib, name, kwargs, bases, steps, edits, resume_at, kind):
    def make_opt():
        groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": b} for b in bases]
        if kind == "adam":
            return torch.optim.Adam(groups, lr=bases[0])
        return torch.optim.SGD(groups, lr=bases[0], momentum=0.9)

    opt = make_opt()
    sched = getattr(lib, name)(opt, **kwargs)
    seen = []
    for t in range(steps):
        if t in edits:
            for g in opt.param_groups:
                g["lr"] = g["lr"] * edits[t]
        if t == resume_at:
            saved = copy.deepcopy((opt.state_dict(), sched.state_dict()))
            opt = make_opt()
            sched = getattr(L, name)(opt, **kwargs)  # always resume into lrsched
            opt.load_state_dict(saved[0])
            sched.load_state_dict(saved[1])
        opt.step()
        sched.step()
        seen.append(
            tuple(g["lr"] for g in opt.param_groups)
            + tuple(g.get("momentum", g.get("betas")) for g in opt.param_groups)
        )
    return seen


@settings(
    max_examples=int(os.environ.get("LRCORE_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # `make test`: a fixed set of examples; `make fuzz` (LRCORE_EXAMPLES) explores
    derandomize="LRCORE_EXAMPLES" not in os.environ,
)
@given(
    case=CLASSES,
    bases=st.lists(st.floats(1e-4, 2.0), min_size=1, max_size=3),
    edits=st.dictionaries(st.integers(0, 799), st.floats(0.1, 2.0), max_size=6),
    resume_at=st.integers(1, 799),
    kind=st.sampled_from(["sgd", "adam"]),
    source=st.sampled_from(["torch", "lrsched"]),
)
def test_random_runs_match_torch(case, bases, edits, resume_at, kind, source):
    name, kwargs = case
    steps = 800
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = run(T, name, kwargs, bases, steps, edits, None, kind)
        lib = T if source == "torch" else L
        got = run(lib, name, kwargs, bases, steps, edits, resume_at, kind)
    assert got == want
