"""Numba kernels. Kernels never validate: the wrappers in lrcore.table do.

Every kernel is compiled on first use (``cache=True``) with one signature:
float64 programs and tables, int64 steps. fastmath is never enabled for the
``torch`` numerics, so operation order and libm calls match CPython's.
"""
