"""Inference declared as small objects.

Pass one of these to an estimator's ``fit(..., inference=...)``. Each has a plain-language
``description`` printed in the summary. Each estimator lists what it supports and rejects
the rest with that list (:func:`require_supported`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from evalint._typing import check_option, check_positive_int
from evalint.errors import SpecificationError


def _check_seed(seed: object) -> None:
    """Seeds go to numpy.random.default_rng: None or a non-negative integer."""
    if seed is not None:
        check_positive_int("seed", seed, minimum=0)

__all__ = [
    "InferenceSpec", "Analytic", "NeweyWest", "ARErrors", "Clustered", "WildClusterBootstrap",
    "MultiplierBootstrap", "Placebo", "Jackknife", "Bootstrap", "SieveBootstrap", "ARNoiseErrors",
    "require_supported",
]


@dataclass(frozen=True)
class InferenceSpec:
    """Base class of inference declarations."""

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def description(self) -> str:
        return self.name


@dataclass(frozen=True)
class Analytic(InferenceSpec):
    """The estimator's default analytic (model-based or influence-function) standard errors."""

    @property
    def description(self) -> str:
        return "analytic standard errors"


@dataclass(frozen=True)
class NeweyWest(InferenceSpec):
    """Newey-West HAC standard errors (Bartlett kernel).

    ``lags=None`` uses the rule floor(4 (T/100)^(2/9)) (Newey & West 1994).
    ``small_sample=True`` multiplies by T/(T-k). ``fixed_b=True`` uses the fixed-b critical
    values of Kiefer & Vogelsang (2005) for the bandwidth ratio b = (lags + 1)/T instead of the
    normal/t ones (and, with ``lags=None``, a large bandwidth, b = 0.3).
    """

    lags: int | None = None
    small_sample: bool = False
    fixed_b: bool = False

    def __post_init__(self) -> None:
        if self.lags is not None:
            check_positive_int("lags", self.lags, minimum=0)

    @property
    def description(self) -> str:
        lag = "automatic lag floor(4(T/100)^(2/9))" if self.lags is None else f"{self.lags} lag(s)"
        if self.fixed_b and self.lags is None:
            lag = "bandwidth 0.3 T"
        return f"Newey-West HAC standard errors, Bartlett kernel, {lag}" + (
            ", small-sample factor T/(T-k)" if self.small_sample else "") + (
            ", fixed-b critical values (Kiefer & Vogelsang 2005)" if self.fixed_b else "")


@dataclass(frozen=True)
class ARErrors(InferenceSpec):
    """Regression (or count GLM) with AR(p) errors estimated jointly with the coefficients.

    ``order=None`` picks p by AIC over 0..``max_order``. ``method="reml"`` (default) estimates
    the AR coefficients by restricted maximum likelihood, which removes most of the downward
    small-sample bias of the ML estimate after a trend and step have been fitted (the source of
    ML-GLS under-coverage in short series); ``"ml"`` is ``nlme::gls(method = "ML")`` (used by
    the Sicily replication). ``adjust=True`` (default) widens the covariance for the estimated
    AR coefficients (Kackar & Harville 1984) and uses Satterthwaite degrees of freedom for the
    t reference; ``adjust=False`` gives the plain model-based covariance with n - k df (as nlme).
    """

    order: int | None = 1
    max_order: int = 4
    method: Literal["reml", "ml"] = "reml"
    adjust: bool = True

    def __post_init__(self) -> None:
        if self.order is not None:
            check_positive_int("order", self.order, minimum=1)
        check_positive_int("max_order", self.max_order, minimum=1)
        check_option("method", self.method, ("reml", "ml"))

    @property
    def description(self) -> str:
        o = f"AR({self.order})" if self.order else f"AR(p), p<= {self.max_order} chosen by AIC"
        how = "restricted maximum likelihood (REML)" if self.method == "reml" else "maximum likelihood"
        return f"{o} errors estimated jointly by {how}, t reference"


@dataclass(frozen=True)
class ARNoiseErrors(InferenceSpec):
    """GLS with AR(1) errors plus independent noise (an ARMA(1,1) error), REML, adjusted.

    ``Cov(u) = sigma^2 [lam R(phi) + (1 - lam) I]``: a persistent AR(1) part and white noise,
    the shape of the log rate ratio of two areas' monthly counts (persistent area shocks plus
    Poisson sampling error). ``method="reml"`` (default) or ``"ml"``; ``adjust=True`` widens
    the covariance for the estimated ``(phi, lam)`` (Kackar-Harville) with a Satterthwaite t
    reference. The controlled ITS default (arithmetic: :mod:`evalint.inference.ar_noise`).

    References
    ----------
    Harvey, A. C. (1989). Forecasting, Structural Time Series Models and the Kalman Filter.
    Kackar, R. N. & Harville, D. A. (1984). JASA 79(388), 853-862.
    """

    method: Literal["reml", "ml"] = "reml"
    adjust: bool = True

    def __post_init__(self) -> None:
        check_option("method", self.method, ("reml", "ml"))

    @property
    def description(self) -> str:
        how = "restricted maximum likelihood (REML)" if self.method == "reml" else "maximum likelihood"
        adj = ", widened for the estimated error parameters (Kackar-Harville), Satterthwaite t" if self.adjust else ""
        return f"GLS with AR(1) errors plus independent noise (ARMA(1,1)) by {how}{adj}"


@dataclass(frozen=True)
class Clustered(InferenceSpec):
    """Cluster-robust standard errors.

    Parameters
    ----------
    by : str, optional
        Column to cluster by (constant within unit). ``None``: the panel's declared
        ``cluster`` (``Panel.from_frame(..., cluster=...)``), else the unit.
    kind : {"CR1", "CR2"}
        ``"CR1"`` (Liang-Zeger with a small-sample factor, t(G-1) reference) or ``"CR2"``
        (Bell-McCaffrey with Satterthwaite degrees of freedom).
    small_sample : {"nested", "CR1S", "CR1"}
        CR1 small-sample factor (:func:`evalint.inference.cluster.small_sample_factor`).
        ``"nested"`` (default): ``G/(G-1) (N-1)/(N-K)`` with fixed effects nested in the
        clusters not counted in K, as fixest/pyfixest, reghdfe and Stata ``xtreg, fe
        vce(cluster)``; ``"CR1S"`` counts every fixed effect (Stata ``regress`` with dummies,
        linearmodels ``group_debias``), which inflates the SE when unit effects are nested in
        clusters (by 43% on a two-period panel of 400 units clustered by unit); ``"CR1"``:
        ``G/(G-1)`` only.

    References
    ----------
    Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust
    inference. Journal of Human Resources 50(2), 317-372 (section VI.A on nested fixed effects).
    """

    by: str | None = None
    kind: Literal["CR1", "CR2"] = "CR1"
    small_sample: Literal["nested", "CR1S", "CR1"] = "nested"

    def __post_init__(self) -> None:
        check_option("kind", self.kind, ("CR1", "CR2"))
        check_option("small_sample", self.small_sample, ("nested", "CR1S", "CR1"))

    @property
    def description(self) -> str:
        by = self.by or "unit"
        if self.kind == "CR2":
            return f"CR2 cluster-robust SEs by {by} with Bell-McCaffrey (Satterthwaite) degrees of freedom"
        factor = {"nested": "G/(G-1)(N-1)/(N-K), fixed effects nested in clusters not counted in K",
                  "CR1S": "G/(G-1)(N-1)/(N-K), every fixed effect counted in K",
                  "CR1": "G/(G-1)"}[self.small_sample]
        return f"CR1 cluster-robust SEs by {by} ({factor}), t(G-1) reference"


@dataclass(frozen=True)
class WildClusterBootstrap(InferenceSpec):
    """Restricted wild cluster bootstrap (WCR) with Rademacher or Webb weights; p-values
    by bootstrap-t, CIs by test inversion (Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017)."""

    by: str | None = None  # None: the panel's declared cluster, else the unit
    reps: int = 9999
    weights: Literal["rademacher", "webb"] = "webb"
    seed: int | None = 0

    def __post_init__(self) -> None:
        check_positive_int("reps", self.reps, minimum=99)
        check_option("weights", self.weights, ("rademacher", "webb"))
        _check_seed(self.seed)

    @property
    def description(self) -> str:
        return (f"restricted wild cluster bootstrap by {self.by or 'unit'} ({self.reps} reps, "
                f"{self.weights.capitalize()} weights, seed {self.seed}); CI by test inversion")


@dataclass(frozen=True)
class MultiplierBootstrap(InferenceSpec):
    """Multiplier bootstrap on influence functions with simultaneous (uniform) bands."""

    reps: int = 999
    seed: int | None = 0
    cluster: str | None = None  # None: the panel's declared cluster, else the unit
    uniform: bool = True

    def __post_init__(self) -> None:
        check_positive_int("reps", self.reps, minimum=99)
        _check_seed(self.seed)

    @property
    def description(self) -> str:
        c = f", clustered by {self.cluster}" if self.cluster else ""
        u = " with simultaneous bands" if self.uniform else ""
        return f"multiplier bootstrap ({self.reps} reps, seed {self.seed}{c}){u}"


@dataclass(frozen=True)
class Placebo(InferenceSpec):
    """Placebo inference: in-space placebos (or the SDID placebo variance, Algorithm 4)."""

    reps: int | None = None
    seed: int | None = 0

    def __post_init__(self) -> None:
        if self.reps is not None:
            check_positive_int("reps", self.reps, minimum=1)
        _check_seed(self.seed)

    @property
    def description(self) -> str:
        r = "all donors" if self.reps is None else f"{self.reps} placebo replications"
        return f"placebo inference ({r}, seed {self.seed})"


@dataclass(frozen=True)
class Jackknife(InferenceSpec):
    """Leave-one-unit-out jackknife variance."""

    @property
    def description(self) -> str:
        return "jackknife (leave one unit out) standard error"


@dataclass(frozen=True)
class Bootstrap(InferenceSpec):
    """Unit (block) bootstrap."""

    reps: int = 200
    seed: int | None = 0

    def __post_init__(self) -> None:
        check_positive_int("reps", self.reps, minimum=2)
        _check_seed(self.seed)

    @property
    def description(self) -> str:
        return f"unit bootstrap ({self.reps} reps, seed {self.seed})"


@dataclass(frozen=True)
class SieveBootstrap(InferenceSpec):
    """AR-sieve bootstrap of a single-series regression (segmented-regression ITS).

    The OLS residuals are approximated by an AR(p) (p by AIC over ``0..max_order``; ``None``:
    ``floor(n^(1/3))``), their centred innovations resampled and passed through the AR
    recursion, and the regression refitted ``reps`` times; the coverage of the bootstrap
    standard error with a t(n - k) reference is in methods/its.md (an option, not the default).
    Arithmetic: :mod:`evalint.inference.sieve`.

    References
    ----------
    Bühlmann, P. (1997). Sieve bootstrap for time series. Bernoulli 3(2), 123-148.
    """

    reps: int = 999
    seed: int | None = 0
    max_order: int | None = None

    def __post_init__(self) -> None:
        check_positive_int("reps", self.reps, minimum=99)
        _check_seed(self.seed)
        if self.max_order is not None:
            check_positive_int("max_order", self.max_order, minimum=0)

    @property
    def description(self) -> str:
        o = f"p <= {self.max_order}" if self.max_order is not None else "p <= n^(1/3)"
        return f"AR-sieve bootstrap ({self.reps} reps, seed {self.seed}; AR order by AIC, {o})"


def require_supported(estimator: str, spec: InferenceSpec, supported: tuple[type, ...]) -> InferenceSpec:
    """Raise SpecificationError unless ``spec`` is an instance of one of ``supported``."""
    if not isinstance(spec, supported):
        names = ", ".join(t.__name__ for t in supported)
        raise SpecificationError(
            f"{estimator} does not support inference={type(spec).__name__}; supported: {names}."
        )
    return spec
