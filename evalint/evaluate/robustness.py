"""The "How robust is this?" section of ``evaluate()``: one table, plain words, and the fragility rule.

For every design and outcome of an evaluation it gathers, where the design allows it:

* the churn-sensitivity re-estimates of the top calendar threats (DiD, ITS, synthetic
  control; :mod:`evalint.evaluate.churn_designs`), run here;
* placebo-in-time, leave-one-out comparison units/donors, negative-control outcomes,
  the HonestDiD breakdown value and pre-trend power, run by the checks registered with
  :func:`register_check` (the sensitivity layer registers them when ``evalint`` is imported:
  this module sits below it and never imports it).

The table (:data:`ROBUSTNESS_COLUMNS`) has one row per re-estimate or check, with its
reading in plain words and ``against``: whether the row counts against the conclusion under
the fragility rule (methods/evaluate.md, "How robust is this?"):

A verdict whose designs find an effect (a design in the verdict has an interval excluding no
effect) is downgraded to ``"fragile"`` when, for such a design,

1. a churn re-estimate (donut, event regressor, drop the most exposed comparison units) of
   one of the :data:`RULE_TOP_THREATS` highest-ranked threats flips the sign or gives an
   interval that includes no effect;
2. leaving out one comparison unit or donor flips the sign;
3. a negative-control outcome shows an "effect" (Bonferroni-adjusted p < alpha);
4. only when the user sets ``robustness={"breakdown_mbar": x}``: the HonestDiD breakdown value
   of the DiD event study (relative magnitudes, average post-period effect) is below ``x``.

The HonestDiD breakdown value is not in the default rule: on the demo panel, where parallel
trends hold by construction and every simulated effect is real, the breakdown values of the
three outcomes were Mbar = 0.10-0.35 (the relative-magnitude bound scales with the largest
pre-period month-to-month change, which monthly noise makes large), so any threshold near the
usual benchmark Mbar = 1 would call every true effect fragile. Placebo-in-time and pre-trend
power are reported but not in the rule either: the placebo rank test rejected 11-15% of the
time at a nominal 5% on NHS-shaped panels and the studentised placebo p reported instead has
few effective placebos (methods/sensitivity.md), and power describes the test, not the estimate.

References
----------
Rambachan, A. & Roth, J. (2023). A more credible approach to parallel trends. Review of
Economic Studies 90(5), 2555-2591.
Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel
trends. AER: Insights 4(3), 305-322.
Lipsitch, M., Tchetgen Tchetgen, E. & Cohen, T. (2010). Negative controls. Epidemiology 21(3), 383-388.
Abadie, A. (2021). Using synthetic controls. Journal of Economic Literature 59(2), 391-425.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalint import _deferred
from evalint._forked import forked_map, in_helper
from evalint.errors import EvalintError, SpecificationError

__all__ = ["BREAKDOWN_MBAR", "CHECKS", "ROBUSTNESS_COLUMNS", "RULE_TOP_THREATS", "RobustnessSettings",
           "reading", "register_check", "robustness_statement", "robustness_table", "rule_text", "with_robustness"]

ROBUSTNESS_COLUMNS = ("outcome", "design", "check", "variant", "estimate", "conf_low", "conf_high", "main",
                      "change", "null", "p_value", "reading", "against", "note")
#: churn re-estimates of the threats ranked this high (or higher) enter the fragility rule
RULE_TOP_THREATS = 3
#: HonestDiD breakdown value (relative magnitudes) below which a DiD conclusion is fragile; None:
#: not in the rule (the default; see the module notes), set with ``robustness={"breakdown_mbar": x}``
BREAKDOWN_MBAR: float | None = None
#: every check the section knows, in report order
CHECKS = ("churn", "placebo_in_time", "leave_one_out", "negative_control", "honest_did", "pretrend_power")
_CHURN_THREAT_CHECKS = ("donut", "regressor", "drop_exposed")

Provider = Callable[[Any, str, str, "RobustnessSettings"], list[dict[str, Any]]]
_PROVIDERS: dict[str, Provider] = {}


def register_check(name: str, provider: Provider) -> None:
    """Register ``provider(ev, design, outcome, settings) -> rows`` as robustness check ``name``.

    Rows are dicts with (some of) :data:`ROBUSTNESS_COLUMNS`; missing ones are filled. The
    sensitivity layer registers placebo-in-time, leave-one-out, negative controls, HonestDiD
    and pre-trend power this way.
    """
    if name not in CHECKS:
        raise SpecificationError(f"robustness check {name!r} is not one of {', '.join(CHECKS)}.")
    _PROVIDERS[name] = provider


@dataclass(frozen=True)
class RobustnessSettings:
    """How much work the section does (``fast=True``: the cheap settings).

    Attributes
    ----------
    fast : bool
    checks : tuple of str
        Which of :data:`CHECKS` run.
    negative_controls : mapping
        Outcome -> negative-control outcome columns (declared by the user or named by the
        outcome registry's ``negative_controls``).
    churn_threats, scm_churn_threats : int
        Threats re-estimated per design (synthetic control refits are slower).
    placebo_dates, scm_placebo_dates : int
        Most placebo dates per design (evenly spread over the feasible ones).
    loo_units, scm_loo_donors : int
        Most comparison units (DiD: those whose pre-to-post change is furthest from the
        comparison mean, the ones with the largest leave-one-out influence) or donors (largest
        weights) left out one at a time.
    honest_grid : int
        Grid points of the HonestDiD test inversion.
    event_pre, event_post : int
        Most pre- and post-period event times of the DiD event study behind HonestDiD and
        pre-trend power (the relative-magnitude test grows fast with the pre-period).
    power_draws : int
        Normal draws for the bias after passing the pre-trend test.
    breakdown_mbar : float or None
        HonestDiD breakdown value below which a DiD conclusion is fragile (None: not in the rule).
    seed, alpha : int, float
    """

    fast: bool = False
    checks: tuple[str, ...] = CHECKS
    negative_controls: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    churn_threats: int = 5
    scm_churn_threats: int = 3
    placebo_dates: int = 12
    scm_placebo_dates: int = 6
    loo_units: int = 1000
    scm_loo_donors: int = 1000
    honest_grid: int = 1000
    event_pre: int = 6
    event_post: int = 12
    power_draws: int = 200_000
    breakdown_mbar: float | None = BREAKDOWN_MBAR
    seed: int = 0
    alpha: float = 0.05

    @classmethod
    def make(cls, option: Any, *, fast: bool, seed: int, alpha: float) -> RobustnessSettings:
        """From ``evaluate(robustness=...)``: True, or a mapping with ``checks`` / ``negative_controls``."""
        spec: Mapping[str, Any] = {} if option is True or option is None else option
        if not isinstance(spec, Mapping):
            raise SpecificationError(f"robustness must be True, False or a mapping; got {option!r}.")
        bad = [k for k in spec if k not in ("checks", "negative_controls", "breakdown_mbar")]
        if bad:
            raise SpecificationError(f"robustness has unknown key(s) {bad}; use 'checks', 'negative_controls' "
                                     "and 'breakdown_mbar'.")
        bd = spec.get("breakdown_mbar")
        if bd is not None and (isinstance(bd, bool) or not isinstance(bd, (int, float)) or not bd > 0):
            raise SpecificationError(f"robustness breakdown_mbar must be a positive number or None; got {bd!r}.")
        checks = tuple(spec.get("checks", CHECKS))
        unknown = [c for c in checks if c not in CHECKS]
        if unknown:
            raise SpecificationError(f"robustness checks {unknown} are not known; use {', '.join(CHECKS)}.")
        nc = spec.get("negative_controls", {})
        if isinstance(nc, str):
            nc = [nc]
        if not isinstance(nc, Mapping):
            nc = {"*": tuple(nc)}
        nc = {str(k): (v,) if isinstance(v, str) else tuple(v) for k, v in nc.items()}
        base: dict[str, Any] = {"checks": checks, "negative_controls": nc, "seed": seed, "alpha": alpha,
                                "fast": fast, "breakdown_mbar": None if bd is None else float(bd)}
        if fast:
            return cls(**base, churn_threats=1, scm_churn_threats=1, placebo_dates=4, scm_placebo_dates=2,
                       loo_units=4, scm_loo_donors=1, honest_grid=100, event_pre=3, event_post=6,
                       power_draws=20_000)
        return cls(**base)

    def controls_for(self, outcome: str, kind: Any, available: Sequence[str]) -> list[str]:
        """Negative controls of ``outcome``: declared ones, else the registry's, kept if in the panel."""
        declared = self.negative_controls.get(outcome, self.negative_controls.get("*", ()))
        named = declared or tuple(getattr(kind, "negative_controls", ()) or ())
        return [c for c in named if c in available and c != outcome]


# ----------------------------------------------------------------------------- plain words
def reading(estimate: float, low: float, high: float, main: float, main_low: float, main_high: float,
            null: float = 0.0) -> tuple[str, bool, bool]:
    """(plain words, sign flipped?, significance lost?) of a re-estimate against the main one."""
    if not all(math.isfinite(v) for v in (estimate, main)):
        return "not run", False, False
    main_sig = not (main_low <= null <= main_high)
    sig = math.isfinite(low) and math.isfinite(high) and not (low <= null <= high)
    flipped = np.sign(estimate - null) != np.sign(main - null) and estimate != null
    if flipped:
        return ("flips sign" + (" and is significant" if sig else "")), True, main_sig and not sig
    if main_sig and not sig:
        return "keeps its sign, loses significance", False, True
    if sig and not main_sig:
        return "keeps its sign, becomes significant", False, False
    return ("keeps its sign and significance" if main_sig else "keeps its sign (not significant either way)"), \
        False, False


def _row(**kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c: math.nan for c in ROBUSTNESS_COLUMNS}
    row.update(variant="", reading="", against=False, note="")
    row.update(kw)
    return row


def _entry_significant(ev: Any, design: str, outcome: str) -> bool:
    from evalint.evaluate.triangulate import APART

    e = ev.entries.get((design, outcome))
    if e is None or not e.ok or design in APART:
        return False
    return bool(e.scaled.abs_low > 0 or e.scaled.abs_high < 0)


def _churn_rows(ev: Any, design: str, outcome: str, st: RobustnessSettings) -> list[dict[str, Any]]:
    from evalint.evaluate.churn_designs import CHURN_DESIGNS, design_churn

    if design not in CHURN_DESIGNS:
        return []
    n = st.scm_churn_threats if design == "scm" else st.churn_threats
    cs = design_churn(ev, design, outcome, max_threats=n)
    ev._cache[f"churn:{design}:{outcome}"] = cs
    from evalint.evaluate.refits import design_refit

    null = design_refit(ev, design, outcome).null
    sig = _entry_significant(ev, design, outcome)
    order = list(dict.fromkeys(e for e in cs.table["event_id"] if e))
    rows = []
    for r in cs.table.itertuples():
        est, lo, hi = float(r.estimate), float(r.conf_low), float(r.conf_high)  # type: ignore[arg-type]
        words, flipped, lost = reading(est, lo, hi, cs.main, *cs.main_ci, null=null)
        top = r.event_id in order[:RULE_TOP_THREATS]
        against = bool(sig and top and r.check in _CHURN_THREAT_CHECKS and (flipped or lost))
        if not math.isfinite(est):
            words = str(r.note).replace("not possible: ", "not possible: ", 1)
        rows.append(_row(outcome=outcome, design=design, check=f"churn_{r.check}", variant=r.event_id,
                         estimate=r.estimate, conf_low=r.conf_low, conf_high=r.conf_high, main=cs.main,
                         change=r.change, null=null, reading=words, against=against, note=r.note))
    return rows


def robustness_table(ev: Any, settings: RobustnessSettings, *, jobs: int = 1) -> pd.DataFrame:
    """Run every check on every design and outcome of ``ev``; one row per re-estimate or check.

    A check that cannot run on a design (no event study, no comparison units, too short a
    pre-period, staggered adoption for placebo dates) gives one row saying why, never an
    exception. The checks of each design and outcome are one task of
    :func:`evalint._forked.forked_map`, shared by ``jobs`` processes; the table is the same
    whatever ``jobs``.
    """
    _deferred.load()  # the sensitivity layer registers its checks on first use (evalint._deferred)
    units = [(o, plan.key) for o in ev.outcomes for plan in ev.plans
             if hasattr(ev.results.get((plan.key, o)), "estimate")]
    parts = forked_map([functools.partial(_unit_checks, ev, d, o, settings) for o, d in units], jobs)
    rows: list[dict[str, Any]] = []
    for unit_rows, cached in parts:
        rows += unit_rows
        for key, value in cached:  # as the check would have left them had it run here
            ev._cache[key] = value
    out = pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))
    out["against"] = out["against"].astype(bool)
    return out


#: cache entries a check leaves that later readers use (the report's churn tables, the event
#: study refitted for HonestDiD): sent back from a helper process with the check's rows
_SHARED_CACHE_PREFIXES = ("churn:", "robustness_event_study")


def _unit_checks(ev: Any, design: str, outcome: str, settings: RobustnessSettings
                 ) -> tuple[list[dict[str, Any]], list[tuple[Any, Any]]]:
    """Every check of one design on one outcome: its rows, and the cache entries it added that
    later readers use (from a helper process they would otherwise be lost)."""
    providers: dict[str, Provider] = {"churn": _churn_rows, **_PROVIDERS}
    before = set(ev._cache)
    rows: list[dict[str, Any]] = []
    for name in CHECKS:
        if name not in settings.checks or name not in providers:
            continue
        try:
            rows += providers[name](ev, design, outcome, settings)
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is reported, never fatal
            kind = "not possible" if isinstance(exc, EvalintError) else "unexpected error"
            rows.append(_row(outcome=outcome, design=design, check=name,
                             reading=f"{kind}: {exc}"[:300], note=type(exc).__name__))
    cached = [] if not in_helper() else [
        (k, ev._cache[k]) for k in ev._cache if k not in before
        and str(k[0] if isinstance(k, tuple) else k).startswith(_SHARED_CACHE_PREFIXES)]
    return rows, cached


def _label(ev: Any, design: str) -> str:
    return next((p.label for p in ev.plans if p.key == design), design)


_WHAT = {"churn_donut": "{v}'s window is left out", "churn_regressor": "{v} is controlled for",
         "churn_drop_exposed": "the comparison units most exposed to {v} are dropped",
         "churn_alternative_date": "the intervention date is moved",
         "leave_one_out": "comparison unit {v} is left out", "negative_control": "the negative control {v}",
         "honest_did": "parallel trends may fail", "placebo_in_time": "placebo dates"}


def _what(check: str, variant: str) -> str:
    return _WHAT.get(check, check).format(v=variant or "the event")


def robustness_statement(ev: Any, outcome: str, table: pd.DataFrame) -> str:
    """One sentence on the robustness of ``outcome``'s result, for the report's summary.

    "the estimates keep their sign and significance in k of n re-estimates; they lose
    significance when <what> (<design>); ..." and the HonestDiD breakdown value.
    """
    t = table.loc[table["outcome"] == outcome]
    if t.empty:
        return "Robustness: no check could be run."
    run = t.loc[t["check"].str.startswith("churn_") | (t["check"] == "leave_one_out")]
    run = run.loc[np.isfinite(run["estimate"].to_numpy(float))]
    if not len(run):
        parts = ["Robustness: no re-estimate could be run"]
    else:
        kept = run.loc[run["reading"] == "keeps its sign and significance"]
        sign = run.loc[run["reading"].str.startswith("keeps its sign")]
        parts = [f"Robustness: the estimates keep their sign and significance in {len(kept)} of {len(run)} "
                 "re-estimates (calendar threats, alternative dates, leave-one-out)"
                 + (f", their sign in {len(sign)}" if len(sign) != len(kept) else "")]
    bad = t.loc[t["against"]]
    changed = run.loc[run["reading"].str.contains("loses significance|flips sign")] if len(run) else run
    shown = bad if len(bad) else changed
    if len(shown):
        items = [f"{r.reading.replace('keeps its sign, ', '')} when {_what(r.check, r.variant)} "
                 f"({_label(ev, r.design)})" for r in shown.head(3).itertuples()]
        parts.append(("the conclusion does not hold: it " if len(bad) else "it ") + "; ".join(items)
                     + (f"; and {len(shown) - 3} more" if len(shown) > 3 else "")
                     + ("" if len(bad) else " (outside the fragility rule)"))
    elif len(run):
        parts.append("no re-estimate changes the conclusion")
    hd = t.loc[(t["check"] == "honest_did") & np.isfinite(t["estimate"].to_numpy(float))]
    if len(hd):
        parts.append(f"HonestDiD breakdown Mbar = {float(hd['estimate'].iloc[0]):.2g}")
    return "; ".join(parts) + "."


def rule_text(settings: RobustnessSettings) -> str:
    """The fragility rule in one paragraph, as the report states it."""
    bd = settings.breakdown_mbar
    return ("Fragility rule: a verdict finding an effect becomes 'fragile' when, for a design whose interval "
            f"excludes no effect, a re-estimate for one of the {RULE_TOP_THREATS} highest-ranked threats flips "
            "the sign or loses significance, leaving out one comparison unit or donor flips the sign, or a "
            "negative control shows an effect"
            + (f", or the HonestDiD breakdown value is below Mbar = {bd:g}" if bd is not None else
               " (the HonestDiD breakdown value is reported, not in the rule)")
            + ". Placebo dates and pre-trend power are reported, not in the rule (methods/evaluate.md)."
            + (f" Fast settings: only the top threat is re-estimated; at most {settings.placebo_dates} placebo dates "
               f"({settings.scm_placebo_dates} for synthetic control, fitted for the estimate only) and "
               f"{settings.loo_units} comparison units ({settings.scm_loo_donors} donor) left out one at a time; "
               "the full settings (evaluate(fast=False)) use up to "
               f"{RobustnessSettings.placebo_dates} and {RobustnessSettings.scm_placebo_dates} dates."
               if settings.fast else ""))


# ----------------------------------------------------------------------------- the verdict
def _fragile(verdict: Any, ev: Any, table: pd.DataFrame) -> Any:
    bad = table.loc[(table["outcome"] == verdict.outcome) & table["against"]]
    if bad.empty or verdict.status in ("no_design", "disagree_sign", "fragile"):
        return verdict
    reasons = "; ".join(f"{_label(ev, r.design)}: {r.reading} when {_what(r.check, r.variant)}"
                        for r in bad.head(4).itertuples())
    text = (f"Fragile (before the robustness checks: {verdict.status.replace('_', ' ')}). The conclusion does "
            f"not survive {len(bad)} robustness check(s): {reasons}. Rule: methods/evaluate.md, 'How robust is "
            f"this?'. {verdict.text}")
    head = verdict.headline.rstrip(".") + (f". Fragile: the conclusion does not hold when "
                                           f"{_what(bad.iloc[0]['check'], bad.iloc[0]['variant'])} "
                                           f"({_label(ev, bad.iloc[0]['design'])}).")
    changes: dict[str, Any] = {"status": "fragile", "text": text, "headline": head}
    if any(f.name == "status_before_robustness" for f in dataclasses.fields(verdict)):
        changes["status_before_robustness"] = verdict.status
    return dataclasses.replace(verdict, **changes)


def with_robustness(ev: Any, option: Any = True, *, jobs: int = 1) -> Any:
    """``ev`` with the robustness table (cached) and its verdicts after the fragility rule.

    Parameters
    ----------
    ev : Evaluation
        Its cache holds evaluate()'s run context (``"context"``: options, calendar, seed, the
        transformed panels) and ``"its_options"``, so the refits match the main fits.
    option : True or mapping
        ``evaluate(robustness=...)``.
    jobs : int
        Processes sharing the checks (:func:`robustness_table`).
    """
    t0 = time.perf_counter()
    settings = RobustnessSettings.make(option, fast=ev.fast, seed=ev.seed, alpha=ev.alpha)
    table = robustness_table(ev, settings, jobs=jobs)
    verdicts = {o: _fragile(v, ev, table) for o, v in ev.verdicts.items()}
    out = dataclasses.replace(ev, verdicts=verdicts)
    out._cache["robustness"] = table
    out._cache["robustness_settings"] = settings
    out._cache["robustness_statements"] = {o: robustness_statement(ev, o, table) for o in ev.outcomes}
    out._cache["robustness_rule"] = rule_text(settings)
    out._cache["robustness_seconds"] = round(time.perf_counter() - t0, 2)
    return out
