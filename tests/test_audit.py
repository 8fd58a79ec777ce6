"""``lrcore audit`` on runs the tests make: a real Lightning Trainer logging with
``LearningRateMonitor`` to ``CSVLogger`` and ``TensorBoardLogger``, stopped and
resumed correctly (exit 0) and resumed with the classic mistake of a scheduler rebuilt
without its state (exit 1, naming the resume step); transformers' Trainer resumed,
read from its ``trainer_state.json``; and bad input (exit 2, nothing written)."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import lrcore
from lrcore import audit
from lrcore.cli import main

pytestmark = pytest.mark.integration

SPEC = "cosine_annealing(T_max=60, eta_min=0.001)"
BASE = 0.1


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


# -- Lightning ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lightning_runs(tmp_path_factory):
    """Two Lightning runs of 60 steps, each stopped at 30 and resumed from its
    checkpoint: one as Lightning resumes, one whose scheduler is rebuilt without its
    state (the checkpoint's scheduler state dropped on load). Their log folders."""
    lightning = pytest.importorskip("lightning")
    pytest.importorskip("tensorboard")
    import lrsched

    class Tiny(lightning.LightningModule):
        def __init__(self, forget=False):
            super().__init__()
            self.net = torch.nn.Linear(4, 1)
            self.forget = forget

        def training_step(self, batch, _):
            x, y = batch
            return torch.nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=BASE)
            sched = lrsched.CosineAnnealingLR(opt, T_max=60, eta_min=0.001)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

        def on_load_checkpoint(self, checkpoint):
            if self.forget:  # the classic mistake: the scheduler starts again
                checkpoint["lr_schedulers"] = []

    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))

    def fit(root, steps, forget=False, ckpt=None):
        loggers = [
            lightning.pytorch.loggers.CSVLogger(root, name="csv"),  # version_0, then _1
            lightning.pytorch.loggers.TensorBoardLogger(root, name="tb", version=0),
        ]
        trainer = lightning.Trainer(
            max_steps=steps,
            accelerator="cpu",
            logger=loggers,
            log_every_n_steps=1,
            callbacks=[lightning.pytorch.callbacks.LearningRateMonitor(logging_interval="step")],
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        loader = torch.utils.data.DataLoader(data, batch_size=4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainer.fit(Tiny(forget), loader, ckpt_path=ckpt)
        return trainer

    import shutil

    half = tmp_path_factory.mktemp("half")
    fit(str(half), 30).save_checkpoint(half / "half.ckpt")  # the first half, run once
    out = {}
    for name, forget in (("resumed", False), ("forgotten", True)):
        root = tmp_path_factory.mktemp(name)
        shutil.copytree(half, root, dirs_exist_ok=True)  # its logs and checkpoint
        fit(str(root), 60, forget, str(root / "half.ckpt"))
        out[name] = root
    return out


def test_a_correctly_resumed_lightning_run_followed_its_schedule(lightning_runs, capsys):
    root = lightning_runs["resumed"]
    csvs = [str(root / f"csv/version_{k}/metrics.csv") for k in (0, 1)]
    code, out = run_cli(capsys, "audit", *csvs, "--spec", SPEC, "--base-lr", str(BASE))
    assert code == 0, out
    assert "read 60 logged LRs" in out and "the run followed the schedule" in out
    code, out = run_cli(capsys, "audit", csvs[1], "--spec", SPEC, "--base-lr", str(BASE))
    assert code == 0 and "steps 30..59" in out  # the resumed part alone
    tb = str(root / "tb/version_0")  # both parts' event files, in one folder
    code, out = run_cli(capsys, "audit", tb, "--spec", SPEC, "--base-lr", str(BASE))
    assert code == 0, out
    assert "read 60 logged LRs (tensorboard tag lr-SGD, float32)" in out


def test_a_scheduler_rebuilt_without_its_state_is_named(lightning_runs, capsys, tmp_path):
    root = lightning_runs["forgotten"]
    import os

    figure = Path(os.environ.get("LRCORE_SCREENSHOTS") or tmp_path) / "audit.png"
    code, out = run_cli(
        capsys, "audit", str(root / "csv/version_0/metrics.csv"),
        str(root / "csv/version_1/metrics.csv"), "--spec", SPEC,
        "--base-lr", str(BASE), "--plot", str(figure),
    )  # fmt: skip
    # Lightning restores the optimizer (its LR at step 30), and the rebuilt scheduler's
    # recurrence carries on from there: from step 31 the LR is no part of the schedule
    assert code == 1, out
    assert "29 of 60 logged LRs differ; the first at step 31" in out
    table = lrcore.table(lrcore.parse(SPEC), 60, BASE)
    assert (
        "after the resume at step 30, step 31: the LR leaves the schedule and follows no "
        f"part of it for 29 logged steps: LR {table[30]:.6g} -> " in out
    )
    assert f"(intended {table[31]:.6g}, " in out and "resumed at step 30" in out
    assert figure.read_bytes().startswith(b"\x89PNG")
    code, out = run_cli(
        capsys, "audit", str(root / "tb/version_0"), "--spec", SPEC, "--base-lr", str(BASE)
    )
    assert code == 1 and "the first at step 31" in out and "float32" in out


# -- transformers' Trainer ----------------------------------------------------------------
def test_a_resumed_transformers_trainer_followed_its_schedule(tmp_path, capsys):
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(4, 1)

        def forward(self, x, labels=None):
            loss = torch.nn.functional.mse_loss(self.net(x).squeeze(-1), labels)
            return {"loss": loss}

    g = torch.Generator().manual_seed(0)
    x = torch.randn(160, 4, generator=g)
    rows = [{"x": x[i], "labels": x[i].sum()} for i in range(160)]

    def trainer(steps):
        args = transformers.TrainingArguments(
            output_dir=str(tmp_path), max_steps=steps, per_device_train_batch_size=4,
            learning_rate=BASE, lr_scheduler_type="cosine", warmup_steps=5,
            logging_steps=1, save_steps=20, report_to=["tensorboard"], use_cpu=True,
            disable_tqdm=True,
        )  # fmt: skip
        return transformers.Trainer(model=Model(), args=args, train_dataset=rows)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer(40).train()
        trainer(40).train(resume_from_checkpoint=str(tmp_path / "checkpoint-20"))
    state = tmp_path / "checkpoint-40" / "trainer_state.json"
    spec = "warmup(cosine_decay(decay_steps=35), warmup_steps=5)"
    code, out = run_cli(capsys, "audit", str(state), "--spec", spec, "--base-lr", str(BASE))
    assert code == 0, out
    assert "read 40 logged LRs (trainer_state.json log_history, float64)" in out
    # and from its TensorBoard logs (output_dir/runs/<time_host>: one folder, or one a run)
    runs = [str(p) for p in sorted((tmp_path / "runs").iterdir())]
    code, out = run_cli(capsys, "audit", *runs, "--spec", spec, "--base-lr", str(BASE))
    assert code == 0, out
    assert "train/learning_rate" in out and "float32), steps 1..40" in out
    # the first run went on to 40, the second resumed from checkpoint-20: its steps go
    # back, and 21..40 are logged twice, both times with the schedule's LR
    assert "resumed at step 21" in out and "logged more than once: steps 21, 22," in out
    # the same log against a schedule it did not follow: the first difference is named
    code, out = run_cli(
        capsys,
        "audit",
        str(state),
        "--spec",
        "warmup(cosine_decay(decay_steps=30), warmup_steps=5)",
        "--base-lr",
        str(BASE),
    )
    assert code == 1 and "the run did not follow the schedule" in out


# -- the comparison itself, on logs written here ---------------------------------------------
def write_csv(path, steps, lrs, column="lr"):
    path.write_text("step," + column + "\n" + "".join(f"{s},{v!r}\n" for s, v in zip(steps, lrs)))
    return str(path)


def test_a_resume_at_the_wrong_step_is_named_with_its_shift(tmp_path):
    spec = lrcore.parse(SPEC)
    lrs = lrcore.table(spec, 100, BASE)
    logged = np.concatenate([lrs[:40], lrs[30:80]])  # resumed at 40 from the state of step 30
    log = audit.read_log(write_csv(tmp_path / "m.csv", range(90), logged.tolist()))
    report = audit.audit(log, spec, BASE)
    assert not report.agree and report.first_difference == 40
    (jump,) = report.jumps
    assert jump.kind == "shifted" and jump.shift == 10 and jump.step == 40
    assert "10 steps behind the run" in jump.describe()


def test_duplicates_missing_steps_and_a_run_past_the_end(tmp_path):
    spec = lrcore.parse("one_cycle(max_lr=0.1, total_steps=50)")
    lrs = lrcore.table(spec, 50).tolist()
    steps = [*range(0, 20, 2), 18, *range(22, 50, 2), 52]
    logged = [lrs[s] for s in steps[:-1]] + [lrs[-1]]
    report = audit.audit(audit.read_log(write_csv(tmp_path / "m.csv", steps, logged)), spec)
    assert report.duplicates == [18] and report.missing == [20, 50]
    assert [j.kind for j in report.jumps] == ["past the end"] and not report.agree


@pytest.mark.parametrize(
    "content,args,message",
    [
        ("step,lr\n0,0.1\n1,abc\n", [], "lr on row 3 must be a number, got 'abc'"),
        ("step,lr\n0,0.1\n-2,0.1\n", [], "steps must be whole numbers >= 0"),
        (
            "step,lr,lr2\n0,0.1,0.1\n",
            [],
            "name the LR column with --column (columns: step, lr, lr2)",
        ),
        ("step,lr\n0,0.1\n", ["--column", "loss"], "no column 'loss' (columns: step, lr)"),
        ("epoch,lr\n0,0.1\n", [], "no 'step' column"),
    ],
)
def test_bad_csv_logs_exit_2_and_write_nothing(tmp_path, capsys, content, args, message):
    path = tmp_path / "m.csv"
    path.write_text(content)
    figure = tmp_path / "out.png"
    code, out = run_cli(capsys, "audit", str(path), "--spec", SPEC, *args, "--plot", str(figure))
    assert code == 2 and message in out
    assert not figure.exists()


def test_bad_tensorboard_and_trainer_state_logs_exit_2(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp_path / "tb")) as w:
        for s in range(5):
            w.add_scalar("loss", 1.0 / (s + 1), s)
    code, out = run_cli(capsys, "audit", str(tmp_path / "tb"), "--spec", SPEC)
    assert code == 2 and "name the LR with --tag (scalar tags: loss)" in out
    code, out = run_cli(capsys, "audit", str(tmp_path / "tb"), "--spec", SPEC, "--tag", "lr")
    assert code == 2 and "no scalar tag 'lr' (scalar tags: loss)" in out
    (event,) = (tmp_path / "tb").iterdir()
    truncated = tmp_path / "cut" / event.name
    truncated.parent.mkdir()
    truncated.write_bytes(event.read_bytes()[:-7])  # a run killed mid-write
    code, out = run_cli(capsys, "audit", str(truncated), "--spec", SPEC, "--tag", "loss")
    assert code == 2 and f"{truncated}: truncated at byte" in out  # (tensorboard drops it)
    junk = tmp_path / "junk" / "events.out.tfevents.1.host"
    junk.parent.mkdir()
    junk.write_bytes(bytes(range(256)) * 3)
    code, out = run_cli(capsys, "audit", str(junk.parent), "--spec", SPEC)
    assert code == 2 and "not a TensorBoard event file" in out
    state = tmp_path / "trainer_state.json"
    state.write_text("{not json")
    code, out = run_cli(capsys, "audit", str(state), "--spec", SPEC)
    assert code == 2 and "not a trainer_state.json" in out
