"""lrsched's drop-ins against torch.optim.lr_scheduler's classes, step by step.

Every comparison is exact (==): same bits in every group's LR (and momentum or
beta1 where torch cycles it), at every step.
"""

import copy
import pickle
import random
import warnings

import lrsched as L
import pytest
import torch
from torch.optim import lr_scheduler as T


def lam(e):
    return 0.97 ** (e // 7)


def mult(e):
    return 0.999 if e % 3 else 1.002


# (name, builder(lib, optimizer) -> scheduler); lib is torch's module or lrsched
CASES = [
    ("LambdaLR", lambda m, o: m.LambdaLR(o, lam)),
    ("LambdaLR-list", lambda m, o: m.LambdaLR(o, [lam, lambda e: 1 / (1 + e)] + [lam] * 2)),
    ("MultiplicativeLR", lambda m, o: m.MultiplicativeLR(o, mult)),
    ("StepLR", lambda m, o: m.StepLR(o, step_size=30, gamma=0.7)),
    ("MultiStepLR", lambda m, o: m.MultiStepLR(o, milestones=[50, 50, 400, 2000], gamma=0.5)),
    ("ConstantLR", lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=300)),
    ("LinearLR", lambda m, o: m.LinearLR(o, start_factor=0.01, end_factor=0.9, total_iters=900)),
    ("ExponentialLR", lambda m, o: m.ExponentialLR(o, gamma=0.9995)),
    ("PolynomialLR", lambda m, o: m.PolynomialLR(o, total_iters=3000, power=1.7)),
    ("CosineAnnealingLR", lambda m, o: m.CosineAnnealingLR(o, T_max=700, eta_min=1e-4)),
    (
        "CosineAnnealingWarmRestarts",
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=17, T_mult=2, eta_min=1e-5),
    ),
    (
        "CyclicLR",
        lambda m, o: m.CyclicLR(
            o,
            base_lr=[1e-3, 2e-3, 3e-3, 1e-4],
            max_lr=0.1,
            step_size_up=40,
            step_size_down=90,
            mode="triangular2",
        ),
    ),
    (
        "CyclicLR-exp",
        lambda m, o: m.CyclicLR(
            o, base_lr=1e-3, max_lr=0.1, step_size_up=25, mode="exp_range", gamma=0.999
        ),
    ),
    ("OneCycleLR", lambda m, o: m.OneCycleLR(o, max_lr=[0.1, 0.2, 0.05, 0.3], total_steps=12_000)),
    (
        "OneCycleLR-3",
        lambda m, o: m.OneCycleLR(
            o,
            max_lr=0.1,
            epochs=40,
            steps_per_epoch=300,
            three_phase=True,
            anneal_strategy="linear",
        ),
    ),
    (
        "SequentialLR",
        lambda m, o: m.SequentialLR(
            o,
            [
                m.LinearLR(o, start_factor=0.1, total_iters=100),
                m.ExponentialLR(o, 0.999),
                m.CosineAnnealingLR(o, T_max=500),
            ],
            milestones=[100, 1500],
        ),
    ),
    (
        "ChainedScheduler",
        lambda m, o: m.ChainedScheduler(
            [m.ConstantLR(o, factor=0.5, total_iters=50), m.ExponentialLR(o, gamma=0.9997)]
        ),
    ),
    (
        "ReduceLROnPlateau",
        lambda m, o: m.ReduceLROnPlateau(o, patience=3, factor=0.5, cooldown=2, min_lr=1e-5),
    ),
]
BASES = [0.1, 0.03, 1.0, 7e-4]
STEPS = 10_000


def optimizer(kind="sgd", bases=BASES, initial=False):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": b} for b in bases]
    if initial:
        for g, b in zip(groups, bases):
            g["initial_lr"] = b
    if kind == "adam":
        return torch.optim.Adam(groups, lr=bases[0])
    return torch.optim.SGD(groups, lr=bases[0], momentum=0.9)


def snapshot(opt):
    out = []
    for g in opt.param_groups:
        out.append(g["lr"])
        if "betas" in g:
            out.append(g["betas"])
        else:
            out.append(g.get("momentum"))
    return tuple(out)


def metric(t):
    # a synthetic validation loss: improves, then plateaus with noise
    return max(1.0 / (1 + t / 50), 0.2) + 0.01 * ((t * 7919) % 13)


def drive(lib, build, steps, kind="sgd", events=None, last_epoch=None):
    """Step a scheduler; ``events[t](lib, opt, sched)`` runs before step t and returns
    the scheduler to go on with, or (optimizer, scheduler). The optimizer steps before
    the scheduler's first step and after each event (so torch's order checks see an
    optimizer that has stepped), not at every step: its arithmetic reads the LR and
    writes none of what a scheduler reads, and it costs 6-8x a scheduler step."""
    opt = optimizer(kind, initial=last_epoch is not None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = build(lib, opt)
        seen = [snapshot(opt)]
        for t in range(1, steps):
            if events and t in events:
                out = events[t](lib, opt, sched)
                opt, sched = out if isinstance(out, tuple) else (opt, out)
                opt.step()
            elif t == 1:
                opt.step()
            if isinstance(sched, T.ReduceLROnPlateau):
                sched.step(metric(t))
            else:
                sched.step()
            seen.append(snapshot(opt))
    return seen, sched


def count_slow_steps(monkeypatch):
    """The ``last_epoch`` of every step that runs torch's own step (not the table)."""
    from lrsched import _window

    slow = []
    real = _window.TableStepMixin._slow_step

    def counting(self, window, epoch):
        slow.append(self.last_epoch)
        return real(self, window, epoch)

    monkeypatch.setattr(_window.TableStepMixin, "_slow_step", counting)
    return slow


def first_mismatch(a, b):
    for t, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return t, x, y
    return None


@pytest.mark.parametrize("name,build", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_same_numbers_as_torch(name, build, kind):
    want, _ = drive(T, build, STEPS, kind)
    got, sched = drive(L, build, STEPS, kind)
    assert first_mismatch(got, want) is None
    assert isinstance(sched, T.LRScheduler)
    assert isinstance(sched, getattr(T, type(sched).__name__))


def _edit(factor):
    def event(lib, opt, sched):
        for g in opt.param_groups:
            g["lr"] = g["lr"] * factor
        return sched

    return event


@pytest.mark.parametrize("name,build", CASES, ids=[c[0] for c in CASES])
def test_external_edits_continue_as_torch(name, build):
    rng = random.Random(hash(name) % 1000)
    events = {rng.randrange(1, 3000): _edit(rng.choice([0.5, 0.1, 1.7, 0.999])) for _ in range(12)}
    events[rng.randrange(1, 3000) | 1] = _edit(0.3)
    events[1 + max(events)] = _edit(2.0)  # two edits in a row
    want, _ = drive(T, build, 3000, events=events)
    got, _ = drive(L, build, 3000, events=events)
    assert first_mismatch(got, want) is None


@pytest.mark.parametrize("name,build", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("direction", ["torch->lrsched", "lrsched->torch", "lrsched->lrsched"])
def test_checkpoint_resume(name, build, direction):
    """Stop at step 1234, save optimizer and scheduler state, resume as a new process
    would (fresh optimizer, fresh scheduler, then load both): same LRs as never stopping."""
    src, dst = {"torch->lrsched": (T, L), "lrsched->torch": (L, T), "lrsched->lrsched": (L, L)}[
        direction
    ]

    def resume(lib, opt, sched):
        saved = copy.deepcopy((opt.state_dict(), sched.state_dict()))
        opt2 = optimizer()
        sched2 = build(dst, opt2)
        opt2.load_state_dict(saved[0])
        sched2.load_state_dict(saved[1])
        return opt2, sched2

    want, _ = drive(T, build, 3000)
    got, _ = drive(src, build, 3000, events={1234: resume})
    assert first_mismatch(got, want) is None


@pytest.mark.parametrize("name,build", CASES[:16], ids=[c[0] for c in CASES[:16]])
def test_state_dict_keys_and_values_are_torchs(name, build):
    _, ours = drive(L, build, 777)
    _, theirs = drive(T, build, 777)
    a, b = ours.state_dict(), theirs.state_dict()
    assert set(a) == set(b)
    for key in a:
        if key not in ("_schedulers", "lr_lambdas", "_scale_fn_custom"):
            assert a[key] == b[key], key


@pytest.mark.parametrize(
    "name,build",
    [c for c in CASES if "Lambda" not in c[0] and "Multiplicative" not in c[0]],
    ids=[c[0] for c in CASES if "Lambda" not in c[0] and "Multiplicative" not in c[0]],
)
def test_pickle_and_deepcopy_mid_run(name, build):
    def clone(how):
        def event(lib, opt, sched):
            if how == "deepcopy":
                opt2, sched2 = copy.deepcopy((opt, sched))
            else:
                opt2, sched2 = pickle.loads(pickle.dumps((opt, sched)))
            # continue on the copy's optimizer: replace the groups' contents
            opt.param_groups[:] = opt2.param_groups
            sched2.optimizer = opt
            for s in getattr(sched2, "_schedulers", []):
                s.optimizer = opt
            return sched2

        return event

    want, _ = drive(T, build, 2500)
    for how in ("deepcopy", "pickle"):
        got, _ = drive(L, build, 2500, events={900: clone(how)})
        assert first_mismatch(got, want) is None


@pytest.mark.parametrize(
    "name,build",
    [
        c
        for c in CASES
        if c[0]
        not in ("SequentialLR", "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR", "CyclicLR-exp")
    ],
    ids=[
        c[0]
        for c in CASES
        if c[0]
        not in ("SequentialLR", "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR", "CyclicLR-exp")
    ],
)
def test_last_epoch_at_construction(name, build):
    def with_last_epoch(k):
        def b(lib, opt):
            import inspect

            sched_fn = build
            src = inspect.signature(getattr(lib, name.split("-")[0]))
            assert "last_epoch" in src.parameters
            # rebuild with last_epoch=k by wrapping the class call
            real = getattr(lib, name.split("-")[0])

            class Shim:
                def __getattr__(self, attr):
                    if attr == real.__name__:
                        return lambda *a, **kw: real(*a, **kw, last_epoch=k)
                    return getattr(lib, attr)

            return sched_fn(Shim(), opt)

        return b

    for k in (0, 5, 499):
        try:
            want, _ = drive(T, with_last_epoch(k), 1500, last_epoch=k)
        except Exception as exc:  # torch refuses (OneCycleLR needs max_lr in the groups)
            with pytest.raises(type(exc), match=str(exc)):
                drive(L, with_last_epoch(k), 1500, last_epoch=k)
            continue
        got, _ = drive(L, with_last_epoch(k), 1500, last_epoch=k)
        assert first_mismatch(got, want) is None, k


@pytest.mark.parametrize(
    "name,build",
    [
        c
        for c in CASES
        if c[0]
        in (
            "StepLR",
            "MultiStepLR",
            "ExponentialLR",
            "CosineAnnealingLR",
            "PolynomialLR",
            "LinearLR",
            "ConstantLR",
            "CosineAnnealingWarmRestarts",
        )
    ],
    ids=lambda c: c if isinstance(c, str) else "",
)
def test_deprecated_step_epoch(name, build):
    def jump(epoch):
        def event(lib, opt, sched):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sched.step(epoch)
            return sched

        return event

    events = {200: jump(50), 400: jump(1000), 401: jump(1001), 800: jump(121 * 17)}
    want, _ = drive(T, build, 1500, events=events)
    got, _ = drive(L, build, 1500, events=events)
    assert first_mismatch(got, want) is None


def test_warning_when_scheduler_steps_before_optimizer():
    opt = optimizer()
    sched = L.StepLR(opt, step_size=3)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before"):
        sched.step()


def test_errors_are_torchs():
    opt = optimizer()
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between"):
        L.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        L.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        L.StepLR(object(), step_size=3)
    sched = L.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(10):
            sched.step()
        with pytest.raises(ValueError, match="Tried to step 11 times"):
            sched.step()


def test_torch_accepted_values_lrcore_refuses_fall_back_to_torch():
    # gamma=0 is refused by lrcore's spec but accepted by torch: same numbers anyway
    build = lambda m, o: m.StepLR(o, step_size=5, gamma=0.0)  # noqa: E731
    want, _ = drive(T, build, 50)
    got, sched = drive(L, build, 50)
    assert got == want
    assert sched._lrsched.disabled is not None  # torch's path until gamma changes


def test_hyperparameter_change_mid_run():
    def change(lib, opt, sched):
        sched.gamma = 0.5
        return sched

    build = lambda m, o: m.StepLR(o, step_size=10, gamma=0.9)  # noqa: E731
    want, _ = drive(T, build, 300, events={95: change})
    got, _ = drive(L, build, 300, events={95: change})
    assert got == want


def test_every_torch_class_has_a_drop_in():
    names = {
        n
        for n, c in vars(T).items()
        if isinstance(c, type)
        and issubclass(c, T.LRScheduler)
        and c.__module__ == T.__name__
        and not n.startswith("_")
        and n != "LRScheduler"
    }
    assert names == set(L.TORCH_CLASSES)


@pytest.mark.parametrize(
    "name,build",
    [c for c in CASES if c[0] not in ("SequentialLR", "ChainedScheduler", "ReduceLROnPlateau")],
    ids=[
        c[0] for c in CASES if c[0] not in ("SequentialLR", "ChainedScheduler", "ReduceLROnPlateau")
    ],
)
def test_steps_are_table_lookups(name, build, monkeypatch):
    """torch's own step() runs only at the start and once per window (windows double
    up to 65,536 steps): a handful of times in 10^4 steps."""
    slow = count_slow_steps(monkeypatch)
    got, _ = drive(L, build, STEPS)
    assert len(slow) <= 12, slow
    want, _ = drive(T, build, STEPS)
    assert got == want


def test_plateau_scaling_a_schedule():
    import lrcore

    warm_cos = lrcore.parse(
        "sequential([linear(start_factor=0.1, total_iters=20),"
        " cosine_annealing(T_max=280)], milestones=[20])"
    )
    curve = lrcore.table(warm_cos, 300)
    opt = optimizer(bases=[0.5, 0.05])
    sched = L.ReduceLROnPlateau(
        opt, patience=4, factor=0.5, min_lr=[0.0, 0.01], eps=0.0, schedule=warm_cos
    )
    ref_opt = optimizer(bases=[1.0])
    ref = T.ReduceLROnPlateau(ref_opt, patience=4, factor=0.5, eps=0.0)  # decisions alone
    losses = [1.0 / (1 + t) if t < 40 else 0.1 + 0.001 * (t % 3) for t in range(1, 300)]
    reductions = 0
    assert opt.param_groups[0]["lr"] == 0.5 * curve[0]
    scale1 = 1.0
    for t, loss in enumerate(losses, start=1):
        before = ref_opt.param_groups[0]["lr"]
        sched.step(loss)
        if sched.scales[1] != scale1:  # a reduction of group 1: allowed only above min_lr
            scale1 = sched.scales[1]
            assert opt.param_groups[1]["lr"] >= 0.01
        ref.step(loss)
        reductions += ref_opt.param_groups[0]["lr"] < before
        scale = 0.5**reductions
        assert opt.param_groups[0]["lr"] == 0.5 * curve[t] * sched.scales[0]
        assert sched.scales[0] == scale  # the same plateau decisions as torch's
    assert reductions >= 3
    assert sched.scales[1] > sched.scales[0]  # group 1's min_lr stopped some reductions
    state = sched.state_dict()
    again = L.ReduceLROnPlateau(optimizer(bases=[0.5, 0.05]), schedule=warm_cos)
    again.load_state_dict(state)
    assert again.scales == sched.scales and again.schedule == warm_cos


def test_plateau_takes_a_reassigned_schedule_at_the_next_step():
    """The factors' window is dropped when ``schedule`` is assigned (it was kept for up
    to 4,096 steps before); the window grows past 4,096 steps as every other."""
    import lrcore

    first, second = lrcore.parse("exponential(gamma=0.999)"), lrcore.parse("step(step_size=7)")
    opt = optimizer(bases=[0.5])
    sched = L.ReduceLROnPlateau(opt, patience=10**9, schedule=first)
    for _ in range(5000):
        sched.step(1.0)
    assert opt.param_groups[0]["lr"] == 0.5 * lrcore.table(first, 5001)[5000]
    sched.schedule = second
    sched.step(1.0)
    assert opt.param_groups[0]["lr"] == 0.5 * lrcore.table(second, 5002)[5001]


def test_plateau_schedule_must_be_relative():
    with pytest.raises(TypeError, match="schedule must be an lrcore spec relative"):
        L.ReduceLROnPlateau(optimizer(), schedule="one_cycle(max_lr=0.1, total_steps=100)")


def test_reassigning_the_optimizer_moves_the_schedule_with_it():
    build = CASES[3][1]  # StepLR
    old, new = optimizer(), optimizer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = build(L, old)
        ref = build(T, optimizer())
        for _ in range(100):
            sched.step()
            ref.step()
        before = snapshot(old)
        for g, h in zip(new.param_groups, old.param_groups):
            g["lr"] = h["lr"]
        sched.optimizer = new
        for _ in range(100):
            sched.step()
            ref.step()
    assert snapshot(old) == before  # the old optimizer is left alone
    assert [g["lr"] for g in new.param_groups] == [g["lr"] for g in ref.optimizer.param_groups]


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "name,kwargs,param",
    [
        ("StepLR", dict(step_size=3, gamma=NAN), "gamma"),
        ("MultiStepLR", dict(milestones=[3], gamma=INF), "gamma"),
        ("ExponentialLR", dict(gamma=NAN), "gamma"),
        ("PolynomialLR", dict(total_iters=10, power=INF), "power"),
        ("CosineAnnealingLR", dict(T_max=10, eta_min=NAN), "eta_min"),
        ("CosineAnnealingWarmRestarts", dict(T_0=10, eta_min=INF), "eta_min"),
        ("LinearLR", dict(start_factor=0.5, end_factor=NAN), "end_factor"),
        ("CyclicLR", dict(base_lr=0.01, max_lr=INF), "max_lr"),
        ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, mode="exp_range", gamma=NAN), "gamma"),
        ("OneCycleLR", dict(max_lr=NAN, total_steps=10), "max_lr"),
    ],
)
def test_non_finite_hyperparameters_are_refused(name, kwargs, param):
    """Stricter than torch, which runs on and produces NaN or infinite LRs."""
    with pytest.raises(ValueError, match=f"{name}: .*{param}.* must be a finite number"):
        getattr(L, name)(optimizer(), **kwargs)
