"""accelerate (CPU) with lrsched schedulers: prepare, step, save_state / load_state, warnings.

``accelerator.prepare`` wraps a scheduler in ``AcceleratedScheduler``, which steps it
only after an optimizer step that was not skipped, bumps its ``_step_count`` on
gradient-accumulation micro-steps, and guards ``OneCycleLR`` with ``total_steps``.
``save_state`` torch.saves ``scheduler.state_dict()``; ``load_state`` torch.loads it
with ``weights_only=True`` (accelerate.utils.other.load). Every run is compared
with the same run using torch's class / transformers' function.
"""

import importlib.util
import warnings

import lrsched
import pytest
import torch

accelerate = pytest.importorskip("accelerate")
from accelerate.scheduler import AcceleratedScheduler  # noqa: E402
from accelerate.state import AcceleratorState, GradientState  # noqa: E402
from accelerate.utils import DataLoaderConfiguration, GradientAccumulationPlugin  # noqa: E402

pytestmark = pytest.mark.integration

STEPS = 20  # optimizer steps
SAVE = 10  # save_state after this many, in the interrupted run


def reset_accelerate():
    AcceleratorState._reset_state(True)
    GradientState._reset_state()


@pytest.fixture(autouse=True)
def _fresh_accelerate_state():
    reset_accelerate()
    yield
    reset_accelerate()


def make_scheduler(library, kind, opt):
    if kind == "get_linear_schedule_with_warmup":
        lib = lrsched if library == "lrsched" else pytest.importorskip("transformers")
        return lib.get_linear_schedule_with_warmup(
            opt, num_warmup_steps=5, num_training_steps=STEPS
        )
    lib = lrsched if library == "lrsched" else torch.optim.lr_scheduler
    if kind == "CosineAnnealingLR":
        return lib.CosineAnnealingLR(opt, T_max=STEPS, eta_min=1e-3)
    if kind == "OneCycleLR":  # shorter than the run: AcceleratedScheduler's total_steps guard
        return lib.OneCycleLR(opt, max_lr=0.1, total_steps=STEPS - 2)
    raise AssertionError(kind)


def train(
    library,
    kind,
    accum=1,
    split=False,
    adjust=False,
    start=0,
    stop=STEPS,
    save_to=None,
    load_from=None,
):
    """Optimizer steps ``start`` to ``stop``; per step (lr, last_epoch, _step_count)."""
    reset_accelerate()
    acc = accelerate.Accelerator(
        cpu=True,
        gradient_accumulation_plugin=GradientAccumulationPlugin(num_steps=accum),
        dataloader_config=DataLoaderConfiguration(split_batches=split),
    )
    if adjust:
        # GradientAccumulationPlugin.adjust_scheduler defaults to True, but to_kwargs()
        # drops defaults and GradientState reads a missing key as False: forced here,
        # so non-sync micro-steps do bump the scheduler's _step_count
        acc.gradient_state.plugin_kwargs["adjust_scheduler"] = True
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = make_scheduler(library, kind, opt)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    loader = torch.utils.data.DataLoader(data, batch_size=4)  # 16 batches an epoch
    model, opt, loader, wrapped = acc.prepare(model, opt, loader, sched)
    assert isinstance(wrapped, AcceleratedScheduler)
    assert wrapped.scheduler is sched
    if load_from:
        acc.load_state(load_from)
    seen = []
    done = start
    while done < stop:
        for x, y in loader:
            with acc.accumulate(model):
                loss = torch.nn.functional.mse_loss(model(x), y)
                acc.backward(loss)
                opt.step()
                wrapped.step()
                opt.zero_grad()
            if acc.sync_gradients:
                done += 1
                lr = opt.param_groups[0]["lr"]
                assert wrapped.get_last_lr() == sched.get_last_lr()
                seen.append((lr, sched.last_epoch, sched._step_count))
                if done == stop:
                    break
    if save_to:
        acc.save_state(str(save_to))
    return seen


KINDS = ["CosineAnnealingLR", "get_linear_schedule_with_warmup", "OneCycleLR"]
# (gradient_accumulation_steps, split_batches, adjust_scheduler)
LOOPS = [(1, False, False), (2, False, False), (2, False, True), (1, True, False)]


@pytest.mark.parametrize("accum,split,adjust", LOOPS)
@pytest.mark.parametrize("kind", KINDS)
def test_prepared_scheduler_steps_like_torch(kind, accum, split, adjust):
    if kind == "OneCycleLR" and split:
        # split_batches skips the total_steps guard: torch's OneCycleLR raises on
        # its 19th step of 18, and lrsched's must raise the same
        with pytest.raises(ValueError) as torch_error:
            train("torch", kind, accum, split, adjust)
        with pytest.raises(ValueError) as error:
            train("lrsched", kind, accum, split, adjust)
        assert "Tried to step 19 times" in str(torch_error.value)
        assert str(error.value) == str(torch_error.value)
        return
    ref = train("torch", kind, accum, split, adjust)
    assert len(ref) == STEPS and len({lr for lr, _, _ in ref}) > 5
    assert train("lrsched", kind, accum, split, adjust) == ref


@pytest.mark.parametrize("library", ["torch", "lrsched"])
@pytest.mark.parametrize("accum", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_save_state_load_state_resumes(library, kind, accum, tmp_path):
    whole = train(library, kind, accum)
    if library == "lrsched":
        assert whole == train("torch", kind, accum)
    first = train(library, kind, accum, stop=SAVE, save_to=tmp_path / "state")
    assert first == whole[:SAVE]
    assert (tmp_path / "state" / "scheduler.bin").is_file()
    second = train(library, kind, accum, start=SAVE, load_from=tmp_path / "state")
    assert first + second == whole


def test_torch_state_loads_into_lrsched(tmp_path):
    """A run switched to lrsched mid-way: torch's scheduler wrote the state."""
    kind = "CosineAnnealingLR"
    whole = train("torch", kind)
    train("torch", kind, stop=SAVE, save_to=tmp_path / "state")
    assert train("lrsched", kind, start=SAVE, load_from=tmp_path / "state") == whole[SAVE:]


# --- warnings ----------------------------------------------------------------


def install_accelerates_filter():
    """Run accelerate/scheduler.py's module body again, in a throwaway module.

    Importing accelerate.scheduler calls
    ``warnings.filterwarnings("ignore", category=UserWarning, module="torch.optim.lr_scheduler")``
    but only once per process, and pytest restores the filters after collection
    and after every test; this puts accelerate's own filter back (its code, not a
    copy) without touching the real accelerate.scheduler module.
    """
    import accelerate.scheduler

    spec = importlib.util.spec_from_file_location(
        "accelerate._filter_probe", accelerate.scheduler.__file__
    )
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert warnings.filters[0][0] == "ignore"
    assert warnings.filters[0][2] is UserWarning
    assert warnings.filters[0][3].pattern == "torch.optim.lr_scheduler"


def build(lib, kind, opt):
    if kind == "Sequential(Linear, Exponential)":
        a = lib.LinearLR(opt, start_factor=0.1, total_iters=3)
        b = lib.ExponentialLR(opt, gamma=0.9)
        return lib.SequentialLR(opt, [a, b], milestones=[3])
    if kind == "Sequential(Linear, Cosine)":
        a = lib.LinearLR(opt, start_factor=0.1, total_iters=3)
        b = lib.CosineAnnealingLR(opt, T_max=10)
        return lib.SequentialLR(opt, [a, b], milestones=[3])
    if kind == "CosineAnnealingLR":
        return lib.CosineAnnealingLR(opt, T_max=10)
    raise AssertionError(kind)


def stepped_before_optimizer(lib, kind):
    """Records of: build, 5 scheduler steps before any optimizer step, then one of each."""
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # no once-per-location dedupe hiding a difference
        install_accelerates_filter()  # on top, as in a process that imported accelerate
        sched = build(lib, kind, opt)
        for _ in range(5):
            sched.step()  # one call site for both libraries: same filename and lineno
        opt.step()
        sched.step()
    records = [(w.category, str(w.message), w.filename, w.lineno) for w in caught]
    return records, opt.param_groups[0]["lr"]


@pytest.mark.parametrize(
    "kind", ["Sequential(Linear, Exponential)", "Sequential(Linear, Cosine)", "CosineAnnealingLR"]
)
def test_warnings_under_accelerates_filter_are_torchs(kind):
    torch_records, torch_lr = stepped_before_optimizer(torch.optim.lr_scheduler, kind)
    ours, lr = stepped_before_optimizer(lrsched, kind)
    assert lr == torch_lr
    if kind.startswith("Sequential"):
        # the children's warnings come from inside torch/optim/lr_scheduler.py: all ignored
        assert torch_records == []
    else:
        # a scheduler stepped by the user warns at the user's line: accelerate lets it through
        assert [r[0] for r in torch_records] == [UserWarning]
    assert ours == torch_records
