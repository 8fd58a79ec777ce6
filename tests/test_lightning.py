"""A real Lightning Trainer (CPU) with an lrsched scheduler, stopped and resumed."""

import warnings

import lrsched
import pytest
import torch

pytestmark = pytest.mark.integration

TOTAL = 60


@pytest.fixture(scope="module", autouse=True)
def lightning():
    """Lightning, imported by the worker that runs these tests only (4-5 s; not at
    collection, which every worker does)."""
    global Tiny
    module = pytest.importorskip("lightning")

    class Tiny(module.LightningModule):
        def __init__(self, library):
            super().__init__()
            self.library = library
            self.net = torch.nn.Linear(4, 1)
            self.seen = []

        def training_step(self, batch, _):
            x, y = batch
            self.seen.append(self.trainer.optimizers[0].param_groups[0]["lr"])
            return torch.nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9)
            lib = lrsched if self.library == "lrsched" else torch.optim.lr_scheduler
            sched = lib.OneCycleLR(opt, max_lr=0.1, total_steps=TOTAL)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    return module


def loader():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    return torch.utils.data.DataLoader(data, batch_size=4)  # 16 steps an epoch


def fit(library, max_steps, ckpt_path=None, save_to=None):
    import lightning

    model = Tiny(library)
    trainer = lightning.Trainer(
        max_steps=max_steps,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(model, loader(), ckpt_path=ckpt_path)
    if save_to:
        trainer.save_checkpoint(save_to)
    return model.seen


def test_resume_gives_the_uninterrupted_lrs(tmp_path):
    torch_run = fit("torch", TOTAL)
    whole = fit("lrsched", TOTAL)
    assert whole == torch_run
    ckpt = str(tmp_path / "half.ckpt")
    first = fit("lrsched", 23, save_to=ckpt)  # stop mid-epoch
    second = fit("lrsched", TOTAL, ckpt_path=ckpt)
    assert first + second == whole
    # and a checkpoint written with torch's scheduler resumes in lrsched's
    ckpt_torch = str(tmp_path / "torch.ckpt")
    fit("torch", 37, save_to=ckpt_torch)
    assert fit("lrsched", TOTAL, ckpt_path=ckpt_torch) == whole[37:]
