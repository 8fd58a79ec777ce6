/* lrcore C ABI: evaluate any serialisable lrcore schedule from C or C++.
 *
 * A schedule handle is made in Python (lrcore.cabi.Schedule(spec, base_lr));
 * it stays valid while that Python object lives. The handle carries the
 * schedule's program; the entry points (numba cfuncs, compiled on first use and
 * cached on disk) interpret it. Their addresses come from Python:
 *   - schedule.fill_address(), .fill_closed_address(), .lr_at_address(): made
 *     for that schedule's families only (the fastest first use); they serve any
 *     handle of those families and return LRCORE_EKIND for another family;
 *   - lrcore.cabi.fill_address(), fill_closed_address(), lr_at_address(): serve
 *     a handle of any schedule (their first use compiles every family).
 *
 * Numbers: lrcore_fill gives the same bits as lrcore.table(spec, n, base_lr,
 * start=start) (torch numerics: bit-identical to torch.optim.lr_scheduler);
 * lrcore_fill_closed those of numerics="closed".
 *
 * Errors are return codes; no entry point crashes on a bad argument.
 */
#ifndef LRCORE_H
#define LRCORE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lrcore_schedule lrcore_schedule; /* opaque */

enum {
    LRCORE_OK = 0,
    LRCORE_ENULL = -1,   /* a null schedule or output pointer */
    LRCORE_ERANGE = -2,  /* negative start or n, or a step past the schedule's end */
    LRCORE_EHANDLE = -3, /* the pointer is not an lrcore schedule handle */
    LRCORE_EKIND = -4    /* the handle holds a family this entry point was not made for */
};

/* out[i] = LR after (start + i) scheduler steps, i < n. Returns an LRCORE_ code. */
typedef int (*lrcore_fill_fn)(const lrcore_schedule *s, double *out, int64_t start, int64_t n);

/* The closed-form numerics (parallel), same contract. */
typedef int (*lrcore_fill_closed_fn)(const lrcore_schedule *s, double *out, int64_t start,
                                     int64_t n);

/* The LR after `step` scheduler steps; NaN on any error. */
typedef double (*lrcore_lr_at_fn)(const lrcore_schedule *s, int64_t step);

#ifdef __cplusplus
}
#endif

#endif /* LRCORE_H */
