"""Numeric codes shared by the lowering (:mod:`lrcore.program`) and the kernels.

A program is one flat float64 array (the names below are :data:`PROGRAM_HEADER`,
:data:`SEGMENT_ROW` and :data:`LEAF_HEADER`)::

    [0]            number of segments
    [1]            number of leaves (all segments)
    [2 + 3*s ...]  segment s: first step, number of leaves, offset of its first leaf
    leaf record:   kind, n_params, state slot, function slot, params...

Segments follow torch's SequentialLR (segment s starts at its milestone); the
leaves of one segment are applied in order each step, as torch's ChainedScheduler
applies its schedulers to the same learning rate.

A leaf's kind code is its family's (declared in its module, :mod:`lrcore.family`);
the constants here are the layout and the codes a family's kernels read inside
its own parameters (shapes, modes).
"""

from .family import offsets

# FACTOR shapes (params: shape code, then a, b, c, d)
F_WARMUP, F_STABLE, F_LINEAR, F_COSINE, F_HARD_RESTARTS, F_POLYNOMIAL, F_INV_SQRT, F_WSD = range(8)
# TIMM shapes
T_COSINE, T_TANH, T_POLY = range(3)
# DEEPSPEED shapes, and its warm-up types
DS_WARMUP, DS_WARMUP_DECAY, DS_COSINE, DS_ONE_CYCLE, DS_RANGE_TEST = range(5)
DS_LOG, DS_LINEAR = range(2)
# MEGATRON shapes (the LR, the weight decay) and its decay / increment styles
MG_LR, MG_WD = range(2)
MG_CONSTANT, MG_LINEAR, MG_COSINE, MG_INV_SQRT, MG_WSD, MG_EXPONENTIAL, MG_MINUS_SQRT = range(7)
# OPTAX shapes, and piecewise interpolation types
O_CONSTANT, O_POLY, O_EXP, O_COSINE, O_PW_CONSTANT, O_PW_INTERP = range(6)
O_LINEAR, O_COS = range(2)
# KERAS shapes
K_EXP, K_PIECEWISE, K_POLY, K_INVTIME, K_COSINE, K_RESTARTS = range(6)
# FAIRSEQ shapes
FS_INV_SQRT, FS_STEP, FS_COSINE, FS_POLY, FS_TRI_STAGE, FS_TRIANGULAR, FS_FIXED = range(7)
# warm-up types
W_LINEAR, W_COSINE, W_SQRT, W_PLUS_ONE, W_FROM = range(5)
# the shapes of a family's pieces (Family.pieces; lrcore.kernels.formulas: the pieces), at
# x = the piece's first x + steps since its first step:
# a run of its first step's value; lo + (hi - lo) * f with f = cos(a x)**2,
# (1 - a x)**k (k = 1, 2, ...), 1 / sqrt(a x), 1 - sqrt(a x), (1 - tanh(k + a x)) / 2, or
# (k - x) / sqrt(a x) (an inverse square root taken linearly to 0 at x = k); or lo + x a
# (a linear warm-up, ``init + t * step`` in that order: hi unused)
PIECE_RUN, PIECE_COS2, PIECE_POWER, PIECE_RSQRT, PIECE_ONE_MINUS_SQRT, PIECE_TANH = range(6)
PIECE_RSQRT_LINEAR = 6
PIECE_RAMP = 7

# How torch reaches a leaf at a given step (see LRScheduler.step / SequentialLR).
INITIAL = 0  # the step inside the constructor (`_initial_step`)
STEP_MODE = 1  # an ordinary `scheduler.step()`
MILESTONE = 2  # SequentialLR's `_update_lr(0)` when a later segment starts

#: the program's header, a segment's row and a leaf's record before its parameters, as
#: named offsets (``code[h + SEGMENT_ROW.n_leaves]``, ``code[off + LEAF_HEADER.n_params]``)
PROGRAM_HEADER = offsets(("n_segments", "n_leaves"))
SEGMENT_ROW = offsets(("start", "n_leaves", "first_leaf"))
LEAF_HEADER = offsets(("kind", "n_params", "state_slot", "function_slot"))
HEADER = len(PROGRAM_HEADER)
SEGMENT = len(SEGMENT_ROW)
LEAF = len(LEAF_HEADER)  # a leaf's first parameter: off + LEAF

# Cyclic scale modes
TRIANGULAR, TRIANGULAR2, EXP_RANGE = 0, 1, 2
# One-cycle annealing
ANNEAL_COS, ANNEAL_LINEAR = 0, 1
