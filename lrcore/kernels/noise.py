r"""torch's CPU normal draws, for timm's seeded noise, without importing torch.

timm draws its noise at step ``t`` as ``torch.randn(1, generator=g).item()`` with
a fresh ``g.manual_seed(seed + t)``. torch's CPU generator is a Mersenne Twister
(MT19937, Matsumoto & Nishimura 1998) seeded with the low 32 bits of the seed; a
double uniform takes the low 53 bits of two 32-bit outputs (first one high); a
normal pair comes from Box-Muller, :math:`r = \sqrt{-2\log(1 - u_2)}`,
:math:`\theta = 2\pi u_1`, returning :math:`r\cos\theta` and keeping
:math:`r\sin\theta` for the next draw; a float32 tensor rounds it to float32.
"""

import math
import threading

import numpy as np

from . import njit

_N, _M = 624, 397
_MASK32 = 0xFFFFFFFF


@njit(cache=True)
def _seed(mt, filled, upto):
    """Initialise words ``filled .. upto - 1`` of the state (word 0 holds the seed).

    Done lazily: the first draws read words up to ~400, so most of the 624 are
    never needed."""
    for j in range(filled, upto):
        prev = int(mt[j - 1])  # (plain Python: no int64 overflow on the product)
        mt[j] = (1812433253 * (prev ^ (prev >> 30)) + j) & _MASK32
    return max(filled, upto)


@njit(cache=True)
def _next(mt, k):
    """Output ``k`` (0..623) of the current round, twisting that word first.

    Twisting word by word in order gives the same state as the usual whole-array
    twist, and draws past the first few words are rare (rejections)."""
    y = (mt[k] & 0x80000000) | (mt[(k + 1) % _N] & 0x7FFFFFFF)
    w = mt[(k + _M) % _N] ^ (y >> 1)
    if y & 1:
        w ^= 0x9908B0DF
    mt[k] = w
    w ^= w >> 11
    w ^= (w << 7) & 0x9D2C5680
    w ^= (w << 15) & 0xEFC60000
    w ^= w >> 18
    return w


@njit(cache=True)
def _uniform(mt, k):
    # (k is even: the two words never straddle a round)
    return _double(_next(mt, k), _next(mt, k + 1))


@njit(cache=True)
def _double(hi, lo):
    """A double uniform from two 32-bit outputs: the low 53 bits, the first one high."""
    return float(((hi & 0x1FFFFF) << 32) | lo) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _box_muller(u1, u2):
    """The normal pair of two uniforms: torch returns the first, then the second."""
    r = math.sqrt(-2.0 * math.log1p(-u2))
    theta = 2.0 * math.pi * u1
    return r * math.cos(theta), r * math.sin(theta)


@njit(cache=True)
def _scaled(z, std):
    """A draw as timm uses it: rounded to float32 (torch's tensor), times ``std``."""
    return float(np.float32(z)) * std


_generators = threading.local()


def _timm_noise_plain(seed, std, pct):
    """:func:`timm_noise` for the plain-Python engine. Seeding word by word in Python
    costs 150 us a draw (a noisy 4,096-step table: 0.6 s); numpy's legacy
    ``RandomState.seed`` is the same Mersenne Twister seeding (``init_genrand``) in C,
    and ``randint`` over the whole 32-bit range returns its raw outputs in order: 9-13 us
    (``benchmarks/test_tables.py::test_lrcore_timm_plain_engine``). The words become
    draws through the kernel's own ``_double``, ``_box_muller`` and ``_scaled``. One
    generator a thread, since a draw reseeds it."""
    rs = getattr(_generators, "rs", None)
    if rs is None:
        rs = _generators.rs = np.random.RandomState()
    rs.seed(int(seed) & _MASK32)
    double, box_muller, scaled = _double.py, _box_muller.py, _scaled.py
    while True:  # 32 words at a time: 16 normal draws (a narrow pct rejects most)
        words = rs.randint(0, 1 << 32, size=32, dtype=np.uint32).tolist()
        for k in range(0, 32, 4):
            hi1, lo1, hi2, lo2 = words[k : k + 4]
            for z in box_muller(double(hi1, lo1), double(hi2, lo2)):
                n = scaled(z, std)
                if abs(n) < pct:
                    return n


@njit(cache=True, plain=_timm_noise_plain)
def timm_noise(seed, std, pct):
    """timm's ``_calculate_noise`` for the 'normal' type: a draw with ``|n| < pct``."""
    mt = np.empty(_N, np.int64)
    mt[0] = seed & _MASK32
    filled = 1
    k = 0
    have_spare = False
    spare = 0.0
    while True:
        if have_spare:
            z = spare
            have_spare = False
        else:
            # words k .. k+3 twist with words up to k + 3 + 397 of the first round
            filled = _seed(mt, filled, min(_N, k + 4 + _M))
            z, spare = _box_muller(_uniform(mt, k), _uniform(mt, k + 2))
            k = (k + 4) % _N
            have_spare = True
        n = _scaled(z, std)
        if abs(n) < pct:
            return n
