"""One fused CUDA kernel (Triton) for a device-mode step: counter + 1, clamp to the
table, gather every group's LR (and momentum). Inside a CUDA graph this is one
node instead of three. Imported only when CUDA and Triton are available; the
portable path in lrsched.device does the same with three torch ops."""

import torch
import triton
import triton.language as tl


@triton.jit
def _step_kernel(
    counter_ptr,
    table_ptr,
    out_ptr,
    mom_table_ptr,
    mom_out_ptr,
    horizon,
    groups,
    HAS_MOMENTUM: tl.constexpr,
    BLOCK: tl.constexpr,
):
    count = tl.load(counter_ptr) + 1
    tl.store(counter_ptr, count)
    index = tl.minimum(count, horizon - 1)
    g = tl.arange(0, BLOCK)
    mask = g < groups
    tl.store(out_ptr + g, tl.load(table_ptr + g * horizon + index, mask=mask), mask=mask)
    if HAS_MOMENTUM:
        value = tl.load(mom_table_ptr + g * horizon + index, mask=mask)
        tl.store(mom_out_ptr + g, value, mask=mask)


def fused_step(
    counter: torch.Tensor,
    table: torch.Tensor,
    out: torch.Tensor,
    mom_table: torch.Tensor | None,
    mom_out: torch.Tensor | None,
) -> None:
    groups, horizon = table.shape
    has_momentum = mom_table is not None
    _step_kernel[(1,)](
        counter,
        table,
        out,
        mom_table if has_momentum else table,
        mom_out if has_momentum else out,
        horizon,
        groups,
        HAS_MOMENTUM=has_momentum,
        BLOCK=max(triton.next_power_of_2(groups), 16),
    )
