"""A training step compiled whole, scheduler included, as users write it: the model's
forward and backward, ``optimizer.step()``, ``zero_grad()`` and the scheduler's step in
one ``torch.compile`` function. Shared by tests/test_compiled.py and the fairseq run
it starts in a fresh process (importing fairseq changes the process's logging)."""

import warnings

import torch


def param_groups(opt):
    """What a scheduler may write, per group: LR, momentum or Adam's betas, weight decay.
    LR tensors are read as floats (device mode)."""

    def plain(v):
        return float(v) if isinstance(v, torch.Tensor) else v

    return [
        [plain(g["lr"]), g.get("momentum"), g.get("betas"), g.get("weight_decay")]
        for g in opt.param_groups
    ]


def recompiles():
    """Recompiles since dynamo's compilation metrics were last cleared (each frame
    compilation has a compile id "frame/attempt": an attempt past 0 is a recompile).
    dynamo 2.13 keeps no recompile counter of its own: ``counters["recompiles"]``
    stays empty."""
    from torch._dynamo.utils import get_compilation_metrics

    return sum(1 for m in get_compilation_metrics() if not str(m.compile_id).endswith("/0"))


def _no_guard_latency_profile():
    """dynamo times each frame's new guards once for its compilation metrics
    (``profile_guard_manager``: a cache flush, then one evaluation), about 20 ms a frame:
    tests/test_compiled.py took 75 s with it, 52 s without. Nothing here reads that
    figure, and what is compiled, guarded and run is the same without it: it reports 0
    in this process."""
    import torch._dynamo.guards as guards

    guards.profile_guard_manager = lambda *args: 0.0


def fresh_dynamo():
    """A fresh dynamo state: no compiled code, no counters, no compilation metrics
    (all of them kept from now on, not the last 64). Returns dynamo's counters."""
    import torch._dynamo as dynamo
    from torch._dynamo.utils import (
        clear_compilation_metrics,
        counters,
        set_compilation_metrics_limit,
    )

    _no_guard_latency_profile()
    dynamo.reset()
    counters.clear()
    clear_compilation_metrics()
    set_compilation_metrics_limit(100_000)
    return counters


#: how a training step calls each kind of scheduler, written in the compiled function
#: itself (a helper called from it would move the graph break to the helper's call)
CALLS = ("step()", "step(metric)", "step(1)", "step_update(i)", "step(i, metric)")


def metric(i):
    """The validation metric after step ``i``: falls, with a bump every 9 steps."""
    return 3.0 - 0.01 * i + (0.5 if i % 9 == 0 else 0.0)


def training_step(make, call, *, optimizer="sgd", lrs=(0.1, 0.05), hidden=0, **compile_kw):
    """A model (a linear layer, or an MLP with ``hidden`` units), its optimizer (two
    param groups), ``make(opt)``, and ``run(i)``: one compiled training step ending
    with the scheduler's ``call`` (one of :data:`CALLS`; the metric is ``metric(i)``).
    Returns ``(run, opt)``."""
    if call not in CALLS:
        raise ValueError(f"call={call!r}; expected one of {CALLS}")
    torch.manual_seed(0)
    if hidden:
        model = torch.nn.Sequential(
            torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2)
        )
    else:
        model = torch.nn.Linear(4, 2)
    params = list(model.parameters())
    groups = [{"params": params[:1], "lr": lrs[0]}, {"params": params[1:], "lr": lrs[1]}]
    if optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    else:
        opt = torch.optim.AdamW(groups, lr=lrs[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make(opt)

    @torch.compile(**compile_kw)
    def train_step(x, i, metric):
        model(x).square().sum().backward()
        opt.step()
        opt.zero_grad()
        if call == "step()":  # a constant: dynamo keeps only the branch taken
            sched.step()
        elif call == "step(metric)":
            sched.step(metric)
        elif call == "step(1)":
            sched.step(1)
        elif call == "step(i, metric)":  # timm's plateau: the epoch and the metric
            sched.step(i, metric)
        else:
            sched.step_update(i)

    x = torch.randn(8, 4)

    def run(i):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "step() before optimizer.step()": torch's too
            train_step(x, i, metric(i))

    return run, opt


def compiled_run(make, call, steps, **kw):
    """:func:`training_step` in a fresh dynamo state, run for ``steps`` steps (i = 1,
    2, ...). Returns the param groups after each step and the dynamo counts (graphs,
    recompiles, graph breaks)."""
    counters = fresh_dynamo()
    run, opt = training_step(make, call, **kw)
    seen = [param_groups(opt)]
    for i in range(1, steps + 1):
        run(i)
        seen.append(param_groups(opt))
    counts = {
        "graphs": counters["stats"]["unique_graphs"],
        "recompiles": recompiles(),
        "graph_breaks": sum(counters["graph_break"].values()),
    }
    return seen, counts


def counts_of_an_eager_step(ours, theirs, call):
    """Against a peer that dynamo traces (timm, DeepSpeed, Megatron, fairseq): lrsched's
    step runs eagerly, as a torch scheduler's does, and costs what that costs: one graph
    break at the call per compilation of the calling frame, and, where the call passes
    the update count (or the epoch), one recompile (the count is a constant in the frame's first
    compilation; the eager call reads it, so dynamo guards on it, then makes it
    dynamic). No more graphs than the peer, but for that recompile's own (timm's plateau:
    the peer's traced step breaks inside, at torch's ReduceLROnPlateau, so it adds none)."""
    extra_recompiles = ours["recompiles"] - theirs["recompiles"]
    assert ours["graphs"] <= theirs["graphs"] + extra_recompiles, (ours, theirs)
    assert 0 <= extra_recompiles <= (call in ("step_update(i)", "step(i, metric)")), (ours, theirs)
    assert ours["graph_breaks"] - theirs["graph_breaks"] <= 1 + extra_recompiles, (ours, theirs)
