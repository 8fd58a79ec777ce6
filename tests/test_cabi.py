"""The C ABI: cffi ABI-mode calls, and a real C function compiled with cffi's API mode."""

import math
import subprocess
import sys

import numpy as np
import pytest
from catalogue import ABSOLUTE, FRAMEWORKS, PEERS, RELATIVE
from fresh import fresh_python

import lrcore

cffi = pytest.importorskip("cffi")
cabi = pytest.importorskip("lrcore.cabi")

SPECS = [lrcore.parse(s) for s in RELATIVE + PEERS + ABSOLUTE + FRAMEWORKS]


def call_fill(address, handle, out, start, n):
    ffi = cabi.ffi()
    fn = ffi.cast("lrcore_fill_fn", address)
    ptr = ffi.NULL if out is None else ffi.cast("double *", out.ctypes.data)
    return fn(handle, ptr, start, n)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: str(s)[:60])
def test_abi_mode_matches_table_bit_for_bit(spec):
    base = 1.0 if spec.absolute else 0.37
    sched = cabi.Schedule(spec, base)
    n = 3000 if spec.last_step() is None else min(3000, spec.last_step() + 1)
    for start in (0, 1, 777):
        count = n - start
        for numerics, address in (
            ("torch", cabi.fill_address()),
            ("closed", cabi.fill_closed_address()),
        ):
            out = np.full(count, np.nan)
            assert call_fill(address, sched.handle(), out, start, count) == 0
            want = lrcore.table(spec, count, base, start=start, numerics=numerics)
            assert np.array_equal(out, want)
    lr_at = cabi.ffi().cast("lrcore_lr_at_fn", cabi.lr_at_address())
    assert lr_at(sched.handle(), 1234 % n) == lrcore.table(spec, n, base)[1234 % n]


def test_bad_arguments_give_error_codes():
    ffi = cabi.ffi()
    sched = cabi.Schedule(lrcore.parse("one_cycle(max_lr=0.1, total_steps=100)"))
    out = np.empty(10)
    fill = cabi.fill_address()
    assert call_fill(fill, sched.handle(), out, 0, -1) == cabi.ERANGE
    assert call_fill(fill, sched.handle(), out, -5, 3) == cabi.ERANGE
    assert call_fill(fill, sched.handle(), out, 95, 10) == cabi.ERANGE  # past step 100
    assert call_fill(fill, sched.handle(), None, 0, 3) == cabi.ENULL
    assert call_fill(fill, ffi.NULL, out, 0, 3) == cabi.ENULL
    junk = np.zeros(16)
    bad = ffi.cast("lrcore_schedule *", junk.ctypes.data)
    assert call_fill(fill, bad, out, 0, 3) == cabi.EHANDLE
    assert call_fill(fill, sched.handle(), out, 0, 0) == cabi.OK
    lr_at = ffi.cast("lrcore_lr_at_fn", cabi.lr_at_address())
    assert math.isnan(lr_at(ffi.NULL, 3))
    assert math.isnan(lr_at(sched.handle(), 101))


def test_python_functions_and_bad_base_are_refused():
    with pytest.raises(TypeError, match="holds a Python function"):
        cabi.Schedule(lrcore.Lambda(lambda e: 1.0))
    with pytest.raises(ValueError, match="base_lr must be left at 1.0 for cyclic"):
        cabi.Schedule(lrcore.Cyclic(base_lr=0.001, max_lr=0.1), base_lr=0.5)
    with pytest.raises(ValueError, match="base_lr must be a finite number"):
        cabi.Schedule(lrcore.Step(10), base_lr=float("nan"))


C_SOURCE = r"""
#include "lrcore.h"

/* What a C training loop would do: fill a buffer of LRs in chunks. */
int fill_in_chunks(void *fill_ptr, const lrcore_schedule *s, double *out, int64_t n,
                   int64_t chunk) {
    lrcore_fill_fn fill = (lrcore_fill_fn)fill_ptr;
    for (int64_t start = 0; start < n; start += chunk) {
        int64_t k = n - start < chunk ? n - start : chunk;
        int rc = fill(s, out + start, start, k);
        if (rc != LRCORE_OK) return rc;
    }
    return LRCORE_OK;
}

double sum_lr_at(void *lr_at_ptr, const lrcore_schedule *s, int64_t n) {
    lrcore_lr_at_fn lr_at = (lrcore_lr_at_fn)lr_at_ptr;
    double total = 0.0;
    for (int64_t t = 0; t < n; ++t) total += lr_at(s, t);
    return total;
}
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """Build a C extension with cffi's API mode (gcc) in a temporary directory."""
    tmp = tmp_path_factory.mktemp("cabi")
    builder = cffi.FFI()
    builder.cdef(
        "typedef struct lrcore_schedule lrcore_schedule;"
        "int fill_in_chunks(void *, const lrcore_schedule *, double *, int64_t, int64_t);"
        "double sum_lr_at(void *, const lrcore_schedule *, int64_t);"
    )
    builder.set_source("_lrcore_c_test", C_SOURCE, include_dirs=[cabi.include_dir()])
    builder.compile(tmpdir=str(tmp), verbose=False)
    sys.path.insert(0, str(tmp))
    try:
        import _lrcore_c_test
    finally:
        sys.path.remove(str(tmp))
    return _lrcore_c_test


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: str(s)[:60])
def test_a_compiled_c_function_gets_the_same_bits(compiled, spec):
    ffi, lib = compiled.ffi, compiled.lib
    base = 1.0 if spec.absolute else 3e-4
    sched = cabi.Schedule(spec, base)
    n = 5000 if spec.last_step() is None else min(5000, spec.last_step() + 1)
    out = np.empty(n)
    handle = ffi.cast("lrcore_schedule *", sched.address)
    rc = lib.fill_in_chunks(
        ffi.cast("void *", cabi.fill_address()),
        handle,
        ffi.cast("double *", out.ctypes.data),
        n,
        1000,
    )
    assert rc == 0
    want = lrcore.table(spec, n, base)
    assert np.array_equal(out, want)
    total = lib.sum_lr_at(ffi.cast("void *", cabi.lr_at_address()), handle, 50)
    assert total == sum(want[:50].tolist())  # same additions in the same order


def test_the_header_compiles_as_c_and_cxx(tmp_path):
    src = tmp_path / "use.c"
    src.write_text('#include "lrcore.h"\nint main(void) { return LRCORE_OK; }\n')
    for compiler, flags in (("gcc", ["-std=c99"]), ("g++", ["-x", "c++"])):
        out = subprocess.run(
            [
                compiler,
                *flags,
                "-Wall",
                "-Werror",
                "-I",
                cabi.include_dir(),
                str(src),
                "-o",
                str(tmp_path / "a.out"),
            ],
            capture_output=True,
        )
        assert out.returncode == 0, out.stderr.decode()


def test_import_lrcore_does_not_need_cffi():
    code = (
        "import sys; sys.modules['cffi'] = None\n"
        "import lrcore, lrcore.cabi as c\n"
        "try:\n    c.ffi()\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "pip install 'lrcore[cffi]'" in out.stdout, out.stderr


def test_a_schedules_own_entry_points_serve_its_families_only():
    ffi = cabi.ffi()
    cosine = cabi.Schedule("cosine_annealing(T_max=50)", 0.1)
    other = cabi.Schedule("cosine_annealing(T_max=7, eta_min=0.01)", 2.0)
    step = cabi.Schedule("step(step_size=3, gamma=0.5)", 0.1)
    out = np.empty(200)
    for handle in (cosine, other):  # the same families: served, same bits as the table
        for numerics, address in (
            ("torch", cosine.fill_address()),
            ("closed", cosine.fill_closed_address()),
        ):
            assert call_fill(address, handle.handle(), out, 5, 200) == cabi.OK
            want = lrcore.table(handle.spec, 200, handle.base_lr, start=5, numerics=numerics)
            assert np.array_equal(out, want)
    # another family: refused with a code, never a wrong number
    assert call_fill(cosine.fill_address(), step.handle(), out, 0, 10) == cabi.EKIND
    assert call_fill(cosine.fill_closed_address(), step.handle(), out, 0, 10) == cabi.EKIND
    lr_at = ffi.cast("lrcore_lr_at_fn", cosine.lr_at_address())
    assert math.isnan(lr_at(step.handle(), 3))
    assert lr_at(other.handle(), 3) == lrcore.table(other.spec, 4, 2.0)[3]
    # the entry points for any schedule serve both
    assert call_fill(cabi.fill_address(), step.handle(), out, 0, 10) == cabi.OK
    # a composition's entry points serve its members' families
    seq = cabi.Schedule(
        "sequential([linear(start_factor=0.1, total_iters=10), step(step_size=3)], milestones=[10])"
    )
    assert call_fill(seq.fill_address(), step.handle(), out, 0, 10) == cabi.OK
    assert call_fill(seq.fill_address(), cosine.handle(), out, 0, 10) == cabi.EKIND


def test_the_header_names_every_error_code():
    header = open(f"{cabi.include_dir()}/lrcore.h").read()
    for name in ("OK", "ENULL", "ERANGE", "EHANDLE", "EKIND"):
        assert f"LRCORE_{name} = {getattr(cabi, name)}" in header


FIRST_FILL = """
import lrcore.cabi as cabi
from lrcore.kernels import torch_numerics as tn
assert cabi.entry_points.cache_info().currsize == 0  # importing compiled nothing
s = cabi.Schedule("cosine_annealing_warm_restarts(T_0=10, T_mult=2)")
s.fill(0, 100)
assert cabi.entry_points.cache_info().currsize == 1  # only this schedule's
masks = {mask for _, mask in tn._CHAINS}
assert masks == {s.families} == {1 << lrcore.CosineAnnealingWarmRestarts.kind}, masks
others = [k for kind, k in tn.LEAF_STEPS.items() if kind != lrcore.CosineAnnealingWarmRestarts.kind]
assert not any(k.ready for k in others)
print("ok")
"""


def test_the_first_fill_compiles_its_families_only(tmp_path):
    code = "import lrcore\n" + FIRST_FILL
    assert fresh_python(code, tmp_path) == ["ok"]
