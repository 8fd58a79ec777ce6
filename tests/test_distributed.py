"""Two processes (gloo, CPU, DDP) with an lrsched scheduler, checkpointed with
torch.distributed.checkpoint and resumed: every rank's LRs equal each other and a
single-process run."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from fresh import free_port

pytestmark = pytest.mark.integration

WORKER = textwrap.dedent("""
    import json, os, sys, warnings
    import torch, torch.distributed as dist, torch.distributed.checkpoint as dcp
    import lrsched
    warnings.simplefilter("ignore")
    rank, world, port, ckpt, phase, out = int(sys.argv[1]), 2, sys.argv[2], sys.argv[3], \\
        sys.argv[4], sys.argv[5]
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = lrsched.CosineAnnealingWarmRestarts(opt, T_0=7, T_mult=2, eta_min=1e-5)
    steps = range(0, 25) if phase == "first" else range(25, 60)
    if phase == "second":
        state = {"model": model.state_dict(), "optim": opt.state_dict(),
                 "sched": sched.state_dict()}
        dcp.load(state, checkpoint_id=ckpt)
        model.load_state_dict(state["model"]); opt.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
    seen = []
    for t in steps:
        x = torch.randn(8, 4, generator=torch.Generator().manual_seed(t * 2 + rank))
        model(x).sum().backward()
        opt.step(); opt.zero_grad(); sched.step()
        seen.append(opt.param_groups[0]["lr"])
    if phase == "first":
        dcp.save({"model": model.state_dict(), "optim": opt.state_dict(),
                  "sched": sched.state_dict()}, checkpoint_id=ckpt)
    with open(out, "w") as fh:
        json.dump(seen, fh)
    dist.barrier()
    dist.destroy_process_group()
    # torch 2.13's gloo / distributed-checkpoint threads sometimes abort the
    # interpreter's teardown ("terminate called without an active exception"), with
    # torch's own scheduler as well (measured: 1 run in 12); the results are written,
    # so leave without running the C++ static destructors.
    os._exit(0)
""")


def run_phase(tmp_path, phase):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    port = free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(r),
                port,
                str(tmp_path / "ckpt"),
                phase,
                str(tmp_path / f"{phase}{r}.json"),
            ],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
    return [json.loads((tmp_path / f"{phase}{r}.json").read_text()) for r in range(2)]


def test_two_ranks_resume_from_a_distributed_checkpoint(tmp_path):
    first = run_phase(tmp_path, "first")
    second = run_phase(tmp_path, "second")
    ranks = [a + b for a, b in zip(first, second)]
    assert ranks[0] == ranks[1]
    # a single process, never stopped, with torch's own scheduler
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=7, T_mult=2, eta_min=1e-5)
    want = []
    for _ in range(60):
        opt.step()
        sched.step()
        want.append(opt.param_groups[0]["lr"])
    assert ranks[0] == want
