"""Peak memory of streaming a 10^8-step table (lrcore.stream) against materialising it."""

import tracemalloc

import pytest

import lrcore

STEPS = 100_000_000
SPEC = lrcore.parse(
    "sequential([linear(start_factor=0.01, total_iters=10000),"
    " cosine_annealing(T_max=99990000)], milestones=[10000])"
)


@pytest.mark.parametrize("numerics", ["torch", "closed"])
def test_stream_peak_memory(benchmark, numerics):
    def run():
        tracemalloc.start()
        total = 0.0
        for block in lrcore.stream(SPEC, STEPS, 0.1, chunk=1 << 20, numerics=numerics):
            total += float(block[-1])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak

    peak = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(peak_bytes=peak, table_bytes=8 * STEPS)
    print(
        f"\nstream 10^8 steps ({numerics}): peak {peak / 2**20:.1f} MiB "
        f"(a materialised table: {8 * STEPS / 2**20:.0f} MiB)"
    )
    assert peak < 64 * 2**20
