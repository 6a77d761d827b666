"""Normal, Student t, chi-squared and F tail functions and quantiles over ``scipy.special``.

Importing ``scipy.stats`` costs about 0.4 s (it loads every distribution, ndimage and fft),
while evalint needs a handful of standard cdf/sf/ppf values. These functions call the same
``scipy.special`` kernels as ``scipy.stats`` and reproduce its argument handling (support
bounds, invalid shape parameters, NaN, broadcasting, 0-d results as NumPy scalars), so each
returns exactly what the ``scipy.stats`` method returns for the same input (checked bit for
bit in tests/unit/test_distributions.py). Anything else (noncentral distributions, the
multivariate normal) is imported from ``scipy.stats`` where it is used.

The module sits in the lowest layer so that diagnostics, inference and everything above can
use it.

References
----------
Virtanen, P. et al. (2020). SciPy 1.0: fundamental algorithms for scientific computing in
Python. Nature Methods 17, 261-272 (``scipy.special``: ``ndtr``, ``ndtri``, ``stdtr``,
``stdtrit``, ``chdtrc``, ``gammaincinv``, ``fdtrc``, ``fdtri``, ``nctdtr``; the noncentral t and chi-squared
complements are the Boost kernels ``scipy.stats`` calls from ``scipy.special._ufuncs``).
Abramowitz, M. and Stegun, I. A. (1964). Handbook of Mathematical Functions, ch. 26.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

__all__ = [
    "norm_cdf",
    "norm_sf",
    "norm_ppf",
    "norm_pdf",
    "t_cdf",
    "t_sf",
    "t_ppf",
    "chi2_sf",
    "chi2_ppf",
    "f_sf",
    "f_ppf",
    "nct_cdf",
    "nct_sf",
    "ncx2_sf",
]

_NORM_PDF_C = np.sqrt(2 * np.pi)


def _scalar_or_array(out: np.ndarray) -> Any:
    """A 0-d result as a NumPy scalar, as ``scipy.stats`` returns it."""
    return out[()] if out.ndim == 0 else out


def _valid(shapes: tuple[np.ndarray, ...]) -> Any:
    """Shape parameters all > 0 (NaN is invalid), as ``rv_generic._argcheck``."""
    cond: Any = True
    for s in shapes:
        cond = np.logical_and(cond, s > 0)
    return cond


def _tail(x: Any, shapes: tuple[Any, ...], lower: float, upper: float,
          kernel: Callable[..., Any], *, sf: bool, valid: Callable[..., Any] | None = None) -> Any:
    """cdf (``sf=False``) or sf at ``x`` with ``scipy.stats.rv_continuous``'s argument handling."""
    xa = np.asarray(x)
    args = tuple(np.asarray(s) for s in shapes)
    dtyp = np.promote_types(xa.dtype, np.float64)
    xa = np.asarray(xa, dtype=dtyp)
    cond0 = _valid(args) if valid is None else valid(*args)
    cond = cond0 & (lower < xa) & (xa < upper)
    out = np.zeros(np.shape(cond), dtyp)
    np.place(out, (1 - cond0) + np.isnan(xa), np.nan)
    np.place(out, cond0 & ((xa <= lower) if sf else (xa >= upper)), 1.0)
    if np.any(cond):
        good = [np.extract(cond, np.broadcast_to(a, np.shape(cond))) for a in (xa, *args)]
        np.place(out, cond, kernel(*good))
    return _scalar_or_array(out)


def _quantile(q: Any, shapes: tuple[Any, ...], lower: float, upper: float,
              kernel: Callable[..., Any]) -> Any:
    """ppf at ``q`` with ``scipy.stats.rv_continuous``'s argument handling (q = 0, 1 map to the support)."""
    qa = np.asarray(q)
    args = tuple(np.asarray(s) for s in shapes)
    cond0 = _valid(args)
    cond = cond0 & (0 < qa) & (qa < 1)
    out = np.full(np.shape(cond), fill_value=np.nan)
    np.place(out, cond0 & (qa == 0), lower)
    np.place(out, cond0 & (qa == 1), upper)
    if np.any(cond):
        good = [np.extract(cond, np.broadcast_to(a, np.shape(cond))) for a in (qa, *args)]
        # ``* scale + loc`` as scipy.stats does (turns a -0.0 into 0.0)
        np.place(out, cond, kernel(*good) * 1.0 + 0.0)
    return _scalar_or_array(out)


def norm_cdf(x: Any) -> Any:
    """Standard normal cdf, ``scipy.stats.norm.cdf(x)``."""
    return _tail(x, (), -np.inf, np.inf, special.ndtr, sf=False)


def norm_sf(x: Any) -> Any:
    """Standard normal survival function, ``scipy.stats.norm.sf(x)``."""
    return _tail(x, (), -np.inf, np.inf, lambda v: special.ndtr(-v), sf=True)


def norm_ppf(q: Any) -> Any:
    """Standard normal quantile, ``scipy.stats.norm.ppf(q)``."""
    return _quantile(q, (), -np.inf, np.inf, special.ndtri)


def norm_pdf(x: Any) -> Any:
    """Standard normal density, ``scipy.stats.norm.pdf(x)``."""
    xa = np.asarray(x)
    dtyp = np.promote_types(xa.dtype, np.float64)
    xa = np.asarray(xa, dtype=dtyp)
    out = np.zeros(np.shape(xa), dtyp)
    np.putmask(out, np.isnan(xa), np.nan)
    cond = (-np.inf <= xa) & (xa <= np.inf)
    if np.any(cond):
        v = np.extract(cond, xa)
        np.place(out, cond, np.exp(-v**2 / 2.0) / _NORM_PDF_C / 1.0)
    return _scalar_or_array(out)


def t_cdf(x: Any, df: Any) -> Any:
    """Student t cdf, ``scipy.stats.t.cdf(x, df)`` (``df = inf`` is the normal)."""
    return _tail(x, (df,), -np.inf, np.inf, lambda v, d: special.stdtr(d, v), sf=False)


def t_sf(x: Any, df: Any) -> Any:
    """Student t survival function, ``scipy.stats.t.sf(x, df)``."""
    return _tail(x, (df,), -np.inf, np.inf, lambda v, d: special.stdtr(d, -v), sf=True)


def t_ppf(q: Any, df: Any) -> Any:
    """Student t quantile, ``scipy.stats.t.ppf(q, df)``."""
    return _quantile(q, (df,), -np.inf, np.inf, lambda p, d: special.stdtrit(d, p))


def chi2_sf(x: Any, df: Any) -> Any:
    """Chi-squared survival function, ``scipy.stats.chi2.sf(x, df)``."""
    return _tail(x, (df,), 0.0, np.inf, lambda v, d: special.chdtrc(d, v), sf=True)


def chi2_ppf(q: Any, df: Any) -> Any:
    """Chi-squared quantile, ``scipy.stats.chi2.ppf(q, df)``."""
    return _quantile(q, (df,), 0.0, np.inf, lambda p, d: 2 * special.gammaincinv(d / 2, p))


def f_sf(x: Any, dfn: Any, dfd: Any) -> Any:
    """F survival function, ``scipy.stats.f.sf(x, dfn, dfd)``."""
    return _tail(x, (dfn, dfd), 0.0, np.inf, lambda v, a, b: special.fdtrc(a, b, v), sf=True)


def f_ppf(q: Any, dfn: Any, dfd: Any) -> Any:
    """F quantile, ``scipy.stats.f.ppf(q, dfn, dfd)``."""
    return _quantile(q, (dfn, dfd), 0.0, np.inf, lambda p, a, b: special.fdtri(a, b, p))


def _nct_valid(df: np.ndarray, nc: np.ndarray) -> Any:
    """``scipy.stats.nct``'s argument check: df > 0 and nc not NaN."""
    return (df > 0) & (nc == nc)


def _nct_sf_kernel(x: Any, df: Any, nc: Any) -> Any:
    """The kernel ``scipy.stats.nct._sf`` evaluates (Boost's noncentral t complement, clipped)."""
    try:
        from scipy.special._ufuncs import _nct_sf
    except ImportError:  # a SciPy that moved it: the public (slower to import) path
        from scipy import stats

        return stats.nct.sf(x, df, nc)
    with np.errstate(over="ignore"):
        return np.clip(_nct_sf(x, df, nc), 0, 1)


def nct_cdf(x: Any, df: Any, nc: Any) -> Any:
    """Noncentral t cdf, ``scipy.stats.nct.cdf(x, df, nc)``."""
    return _tail(x, (df, nc), -np.inf, np.inf, lambda v, d, c: special.nctdtr(d, c, v), sf=False,
                 valid=_nct_valid)


def nct_sf(x: Any, df: Any, nc: Any) -> Any:
    """Noncentral t survival function, ``scipy.stats.nct.sf(x, df, nc)``."""
    return _tail(x, (df, nc), -np.inf, np.inf, _nct_sf_kernel, sf=True, valid=_nct_valid)


def _ncx2_valid(df: np.ndarray, nc: np.ndarray) -> Any:
    """``scipy.stats.ncx2``'s argument check: finite df > 0, nc >= 0."""
    return (df > 0) & np.isfinite(df) & (nc >= 0)


def _ncx2_sf_kernel(x: np.ndarray, df: np.ndarray, nc: np.ndarray) -> Any:
    """``scipy.stats.ncx2._sf``: Boost's noncentral chi2 complement, the central one where nc = 0."""
    try:
        from scipy.special._ufuncs import _ncx2_sf
    except ImportError:  # a SciPy that moved it: the public (slower to import) path
        from scipy import stats

        return stats.ncx2.sf(x, df, nc)
    out = np.empty(np.shape(x), dtype=np.result_type(x, df, nc, np.float64))
    central = nc == 0
    with np.errstate(over="ignore"):
        out[~central] = _ncx2_sf(x[~central], df[~central], nc[~central])
        out[central] = special.chdtrc(df[central], x[central])
    return out


def ncx2_sf(x: Any, df: Any, nc: Any) -> Any:
    """Noncentral chi-squared survival function, ``scipy.stats.ncx2.sf(x, df, nc)``."""
    return _tail(x, (df, nc), 0.0, np.inf, _ncx2_sf_kernel, sf=True, valid=_ncx2_valid)
