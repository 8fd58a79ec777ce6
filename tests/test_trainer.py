"""A real transformers Trainer (CPU) with an lrsched scheduler, stopped at a checkpoint and resumed.

The scheduler is put into the Trainer the ways users do it: a ``create_scheduler``
override, or ``optimizers=(optimizer, scheduler)``. Trainer saves
``scheduler.state_dict()`` with torch.save and, on resume, loads it back with
``torch.load(..., weights_only=True)`` before ``scheduler.load_state_dict``.
Every case also runs with transformers' own functions ("transformers"), which
checks the harness and gives the reference LRs.
"""

import os

# no hub access, ever: everything here is built locally
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import lrsched  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")  # Trainer needs it
pytestmark = pytest.mark.integration

TOTAL = 30
STOP = 15  # the checkpoint the interrupted run writes, then stops at
LIBRARIES = {"transformers": transformers, "lrsched": lrsched}


def make_scheduler(lib, kind, optimizer):
    if kind == "cosine":
        return lib.get_cosine_schedule_with_warmup(
            optimizer, num_warmup_steps=5, num_training_steps=TOTAL
        )
    if kind == "linear":
        return lib.get_scheduler("linear", optimizer, num_warmup_steps=4, num_training_steps=TOTAL)
    if kind == "wsd":
        return lib.get_wsd_schedule(
            optimizer,
            num_warmup_steps=6,
            num_decay_steps=10,
            num_training_steps=TOTAL,
            min_lr_ratio=0.1,
        )
    raise AssertionError(kind)


# kind -> how the scheduler reaches the Trainer
HOW = {"cosine": "create_scheduler", "linear": "optimizers", "wsd": "create_scheduler"}


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(4, 1)

    def forward(self, x, labels=None):
        out = self.net(x)
        loss = torch.nn.functional.mse_loss(out, labels)
        return {"loss": loss, "logits": out}


class Data(torch.utils.data.Dataset):
    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(64, 4, generator=g)
        self.y = self.x.sum(1, keepdim=True)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "labels": self.y[i]}


class Record(transformers.TrainerCallback):
    """Per optimizer step: (global step, LR the step used, LR after the scheduler stepped)."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.seen = []
        self._used = None

    def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
        self._used = optimizer.param_groups[0]["lr"]

    def on_step_end(self, args, state, control, optimizer=None, lr_scheduler=None, **kwargs):
        after = optimizer.param_groups[0]["lr"]
        assert lr_scheduler.get_last_lr()[0] == after
        self.seen.append((state.global_step, self._used, after))
        if state.global_step == self.stop_at:
            control.should_training_stop = True
        return control


def run(library, kind, out, stop_at=None, resume=None):
    lib = LIBRARIES[library]
    torch.manual_seed(0)
    model = Tiny()
    args = transformers.TrainingArguments(
        output_dir=str(out),
        max_steps=TOTAL,
        per_device_train_batch_size=4,  # 16 steps an epoch: the stop is mid-epoch
        learning_rate=0.1,
        use_cpu=True,
        report_to=[],
        dataloader_num_workers=0,
        logging_strategy="no",
        disable_tqdm=True,
        log_level="error",
        save_strategy="steps" if stop_at else "no",
        save_steps=STOP,
        save_only_model=False,
        remove_unused_columns=False,
        seed=0,
    )
    record = Record(stop_at)
    kw = dict(model=model, args=args, train_dataset=Data(), callbacks=[record])
    if HOW[kind] == "optimizers":
        opt = torch.optim.AdamW(model.parameters(), lr=0.1)
        trainer = transformers.Trainer(optimizers=(opt, make_scheduler(lib, kind, opt)), **kw)
    else:

        class Custom(transformers.Trainer):
            def create_scheduler(self, num_training_steps, optimizer=None):
                if self.lr_scheduler is None:
                    assert num_training_steps == TOTAL
                    self.lr_scheduler = make_scheduler(lib, kind, optimizer or self.optimizer)
                    self._created_lr_scheduler = True
                return self.lr_scheduler

        trainer = Custom(**kw)
    trainer.train(resume_from_checkpoint=resume)
    return record.seen


_reference = {}


def reference(kind, tmp_path):
    """transformers' own scheduler, uninterrupted: the LRs everything must equal."""
    if kind not in _reference:
        _reference[kind] = run("transformers", kind, tmp_path / "reference")
    return _reference[kind]


@pytest.mark.parametrize("library", ["transformers", "lrsched"])
@pytest.mark.parametrize("kind", ["cosine", "linear", "wsd"])
def test_resume_gives_the_uninterrupted_lrs(library, kind, tmp_path):
    ref = reference(kind, tmp_path)
    assert [s for s, _, _ in ref] == list(range(1, TOTAL + 1))
    assert len({lr for _, _, lr in ref}) > 10  # the schedule does move

    whole = run(library, kind, tmp_path / "whole")
    assert whole == ref

    first = run(library, kind, tmp_path / "stopped", stop_at=STOP)
    assert first == ref[:STOP]
    ckpt = tmp_path / "stopped" / f"checkpoint-{STOP}"
    assert (ckpt / "scheduler.pt").is_file()
    second = run(library, kind, tmp_path / "resumed", resume=str(ckpt))
    assert second == ref[STOP:]
    assert first + second == whole


@pytest.mark.parametrize("kind", ["cosine", "linear", "wsd"])
def test_a_transformers_checkpoint_resumes_in_lrsched(kind, tmp_path):
    """Switching a run to lrsched mid-way: transformers wrote the checkpoint."""
    ref = reference(kind, tmp_path)
    run("transformers", kind, tmp_path / "stopped", stop_at=STOP)
    ckpt = tmp_path / "stopped" / f"checkpoint-{STOP}"
    assert run("lrsched", kind, tmp_path / "resumed", resume=str(ckpt)) == ref[STOP:]
