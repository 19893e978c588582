"""Special functions for the kernels: the normal CDF and quantile.

Pure Numba; no SciPy inside jitted code. ``ndtri`` is Wichura's AS 241 (PPND16), accurate to
about 1e-16 relative; ``norm_cdf`` uses ``math.erfc`` so that it keeps full relative accuracy in
the lower tail, where default probabilities live. Their plain twins are SciPy's ``ndtri`` and
``ndtr``; ``tests/test_kernels_special.py`` compares them.
"""

from __future__ import annotations

import math

from numba import njit

__all__ = ["ndtri", "norm_cdf"]

_SQRT1_2 = 0.7071067811865475244

_A = (
    3.3871328727963666080e0,
    1.3314166789178437745e2,
    1.9715909503065514427e3,
    1.3731693765509461125e4,
    4.5921953931549871457e4,
    6.7265770927008700853e4,
    3.3430575583588128105e4,
    2.5090809287301226727e3,
)
_B = (
    1.0,
    4.2313330701600911252e1,
    6.8718700749205790830e2,
    5.3941960214247511077e3,
    2.1213794301586595867e4,
    3.9307895800092710610e4,
    2.8729085735721942674e4,
    5.2264952788528545610e3,
)
_C = (
    1.42343711074968357734e0,
    4.63033784615654529590e0,
    5.76949722146069140550e0,
    3.64784832476320460504e0,
    1.27045825245236838258e0,
    2.41780725177450611770e-1,
    2.27238449892691845833e-2,
    7.74545014278341407640e-4,
)
_D = (
    1.0,
    2.05319162663775882187e0,
    1.67638483018380384940e0,
    6.89767334985100004550e-1,
    1.48103976427480074590e-1,
    1.51986665636164571966e-2,
    5.47593808499534494600e-4,
    1.05075007164441684324e-9,
)
_E = (
    6.65790464350110377720e0,
    5.46378491116411436990e0,
    1.78482653991729133580e0,
    2.96560571828504891230e-1,
    2.65321895265761230930e-2,
    1.24266094738807843860e-3,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
)
_F = (
    1.0,
    5.99832206555887937690e-1,
    1.36929880922735805310e-1,
    1.48753612908506148525e-2,
    7.86869131145613259100e-4,
    1.84631831751005468180e-5,
    1.42151175831644588870e-7,
    2.04426310338993978564e-15,
)


@njit(cache=True)
def _poly(c, x):
    return (
        (((((c[7] * x + c[6]) * x + c[5]) * x + c[4]) * x + c[3]) * x + c[2]) * x + c[1]
    ) * x + c[0]


@njit(cache=True)
def ndtri(p: float) -> float:
    """Standard normal quantile Φ⁻¹(p) (Wichura 1988, AS 241).

    Parameters
    ----------
    p : float
        Probability in [0, 1]; 0 gives -inf, 1 gives +inf, outside gives NaN.

    Returns
    -------
    float
        z with Φ(z) = p.
    """
    if not (p >= 0.0 and p <= 1.0):
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(_A, r) / _poly(_B, r)
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        z = _poly(_C, r) / _poly(_D, r)
    else:
        r -= 5.0
        z = _poly(_E, r) / _poly(_F, r)
    return -z if q < 0.0 else z


@njit(cache=True)
def norm_cdf(x: float) -> float:
    """Standard normal CDF Φ(x) with full relative accuracy in the lower tail."""
    return 0.5 * math.erfc(-x * _SQRT1_2)
