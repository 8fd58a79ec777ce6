"""Numeric codes shared by the lowering (:mod:`lrcore.program`) and the kernels.

A program is one flat float64 array::

    [0]            number of segments
    [1]            number of leaves (all segments)
    [2 + 3*s ...]  segment s: first step, number of leaves, offset of its first leaf
    leaf record:   kind, n_params, state slot, function slot, params...

Segments follow torch's SequentialLR (segment s starts at its milestone); the
leaves of one segment are applied in order each step, as torch's ChainedScheduler
applies its schedulers to the same learning rate.
"""

STEP = 1
MULTI_STEP = 2
CONSTANT = 3
LINEAR = 4
EXPONENTIAL = 5
POLYNOMIAL = 6
COSINE = 7
WARM_RESTARTS = 8
CYCLIC = 9
ONE_CYCLE = 10
LAMBDA = 11
MULTIPLICATIVE = 12
FACTOR = 13  # the warm-up family of transformers and WSD: base LR times a factor of the step
TIMM = 14  # timm's cosine, tanh and poly schedulers (cycles, warm-up, seeded noise)
DEEPSPEED = 15  # deepspeed.runtime.lr_schedules: WarmupLR, WarmupDecayLR, WarmupCosineLR, ...
MEGATRON = 16  # Megatron-Core's OptimizerParamScheduler: its LR and its weight decay
OPTAX = 17  # optax's schedules (joins are segments)
KERAS = 18  # Keras 3's LearningRateSchedules, in its float type
FAIRSEQ = 19  # fairseq.optim.lr_scheduler: inverse_sqrt, step, cosine, tri_stage, ...

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

#: Leaves whose value ignores the incoming learning rate (torch computes them
#: from ``base_lrs`` or from their own parameters).
OVERWRITING = frozenset(
    {
        WARM_RESTARTS,
        CYCLIC,
        ONE_CYCLE,
        LAMBDA,
        FACTOR,
        TIMM,
        DEEPSPEED,
        MEGATRON,
        OPTAX,
        KERAS,
        FAIRSEQ,
    }
)

#: Leaves whose value is a function of the step alone (no recurrence, no state, no
#: mode, no user function): any set of steps can be evaluated, e.g. a stride.
POINTWISE = frozenset({DEEPSPEED, MEGATRON, OPTAX, KERAS, FAIRSEQ})

# How torch reaches a leaf at a given step (see LRScheduler.step / SequentialLR).
INITIAL = 0  # the step inside the constructor (`_initial_step`)
STEP_MODE = 1  # an ordinary `scheduler.step()`
MILESTONE = 2  # SequentialLR's `_update_lr(0)` when a later segment starts

HEADER = 2
SEGMENT = 3
LEAF = 4  # kind, n_params, state slot, function slot

# Cyclic scale modes
TRIANGULAR, TRIANGULAR2, EXP_RANGE = 0, 1, 2
# One-cycle annealing
ANNEAL_COS, ANNEAL_LINEAR = 0, 1
