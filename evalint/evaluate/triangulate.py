"""Triangulation: the designs side by side on the common scale, and a verdict per outcome.

Verdict rules (``methods/evaluate.md``):

* ``agree``: every design that produced an estimate has the same sign and every pair of
  confidence intervals overlaps;
* ``disagree_magnitude``: same sign, but at least one pair of intervals does not overlap;
* ``disagree_sign``: point estimates of opposite sign;
* ``single_design``: only one design produced an estimate (no triangulation);
* ``no_design``: none did;
* ``fragile``: set after these rules by the robustness checks (``evalint.evaluate.robustness``)
  when the conclusion does not survive them.

Designs in :data:`APART` (variants declared ``apart`` in the design registry, e.g. the pooled
per-unit ITS on a staggered panel, whose estimand is the
level change at each unit's date rather than the average post-period effect) are shown in the
table but not part of the verdict; the verdict text says so.

Every verdict text names the designs that failed (with their error), every failed
diagnostic of every design and the number of high-severity flags, whatever the status:
no verdict hides a failed diagnostic.

References
----------
Lawlor, D.A., Tilling, K. & Davey Smith, G. (2016). Triangulation in aetiological
epidemiology. International Journal of Epidemiology 45(6), 1866-1886.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evalint.evaluate.registry import VariantView
from evalint.results.numbers import fmt, fmt_level, fmt_p

__all__ = ["APART", "ASSUMPTIONS", "TABLE_COLUMNS", "Entry", "Verdict", "headline_for", "key_diagnostic",
           "verdict_for"]

#: the identifying assumption of each design, named in disagreement verdicts (a view of the
#: design registry, :mod:`evalint.evaluate.registry`)
ASSUMPTIONS: Mapping[str, str] = VariantView("assumption")
_KEY_DIAGNOSTICS: Mapping[str, tuple[str, ...]] = VariantView("key_diagnostics")
TABLE_COLUMNS = ["outcome", "design", "label", "status", "absolute", "abs_low", "abs_high", "abs_label",
                 "percent", "pct_low", "pct_high", "cumulative", "cum_low", "cum_high", "cum_label",
                 "native", "inference", "key_diagnostic", "failed_diagnostics", "high_flags", "error"]


@dataclass(frozen=True)
class Entry:
    """One design x outcome cell: a result on the common scale, or the reason there is none."""

    design: str
    label: str
    outcome: str
    scaled: Any = None          # ScaledEffect
    result: Any = None          # EffectResult (the headline one)
    error: str | None = None
    diagnostics: tuple[Any, ...] = ()
    flags: tuple[Any, ...] = ()

    @property
    def ok(self) -> bool:
        s = self.scaled
        return s is not None and all(math.isfinite(v) for v in (s.absolute, s.abs_low, s.abs_high))

    @property
    def failed_diagnostics(self) -> list[Any]:
        return [d for d in self.diagnostics if d.passed is False]

    @property
    def high_flags(self) -> list[Any]:
        return [f for f in self.flags if f.severity == "high"]


@dataclass(frozen=True)
class Verdict:
    """The plain-language verdict on one outcome."""

    outcome: str
    status: str
    text: str
    designs: tuple[str, ...] = ()
    failed_designs: tuple[str, ...] = ()
    failed_diagnostics: tuple[str, ...] = field(default=())
    high_flags: int = 0
    #: the verdict in one sentence, for the report's summary (``text`` has the full reasoning)
    headline: str = ""
    #: the status before the robustness checks made it ``"fragile"`` (evaluate/robustness.py)
    status_before_robustness: str = ""

    def __str__(self) -> str:
        return f"{self.outcome}: {self.status} - {self.text}"


def key_diagnostic(design: str, diagnostics: Sequence[Any]) -> str:
    """The design's key diagnostic in one line (pre-trend test, pre-fit RMSPE, residual autocorrelation).

    A check repeated per treated unit (synthetic control's pre-fit) is counted ("passed in 3 of
    4 units"); an informational check without a pass/fail rule shows its statistic.
    """
    names = _KEY_DIAGNOSTICS.get(design, ())
    parts = []
    for n in names:
        ds = [d for d in diagnostics if d.name == n]
        if not ds:
            continue
        if len(ds) > 1:
            ran = [d for d in ds if d.passed is not None]
            n_fail = sum(1 for d in ran if d.passed is False)
            if not ran:
                parts.append(f"{n} not run ({len(ds)} units)")
            elif n_fail:
                parts.append(f"{n} FAILED in {n_fail} of {len(ran)} units")
            else:
                parts.append(f"{n} passed in {len(ran)} of {len(ran)} units")
            continue
        d = ds[0]
        stat = f", {fmt_p(d.p_value)}" if d.p_value is not None and math.isfinite(d.p_value) else ""
        if d.passed is None and d.statistic is not None and math.isfinite(d.statistic):
            parts.append(f"{n} = {d.statistic:.3g} (informational)")
        else:
            pw = getattr(d, "power", None) or {}
            power = ""
            if d.passed is not None and math.isfinite(pw.get("slope_80", math.nan)):
                power = f" (80% power against a linear trend of {pw['slope_80']:.2g} per period"
                if math.isfinite(pw.get("bias_if_passed", math.nan)):
                    power += f"; bias if passed {pw['bias_if_passed']:.2g}"
                power += ")"
            parts.append(f"{n} {({True: 'passed', False: 'FAILED', None: 'not run'})[d.passed]}{stat}{power}")
    return "; ".join(parts[:2]) if parts else "none reported"


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "NA"
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _short(text: str, limit: int = 110) -> str:
    """The first sentence of a diagnostic's text, at most ``limit`` characters."""
    t = " ".join(str(text).split())
    if t.startswith("Policy calendar check") and "threatening event" in t:
        # "...: 44 threatening event(s), 5 high, 23 medium, 16 low. FAILED ..." -> the counts
        t = t[t.rfind(":", 0, t.find("threatening event")) + 1:].strip()
    cut = t.find(". ")
    t = t if cut < 0 else t[:cut]
    return t if len(t) <= limit else t[: limit - 3].rstrip() + "..."


def _interval(e: Entry) -> tuple[float, float]:
    return e.scaled.abs_low, e.scaled.abs_high


def _caveats(entries: Sequence[Entry]) -> tuple[list[str], list[str], int]:
    failed_designs = [f"{e.label}: {e.error}" for e in entries if e.error]
    failed_diag = [f"{e.label}: {d.name} failed ({_short(d.text)})"
                   for e in entries for d in e.failed_diagnostics]
    n_high = sum(len(e.high_flags) for e in entries)
    return failed_designs, failed_diag, n_high


#: designs shown in the table but left out of the verdict, with the reason (a view of the registry)
APART: Mapping[str, str] = VariantView("apart", skip_none=True)


def verdict_for(outcome: str, entries: Sequence[Entry], alpha: float = 0.05) -> Verdict:
    """Apply the verdict rules to the design entries of one outcome (designs in :data:`APART` excluded)."""
    ok = [e for e in entries if e.ok and e.design not in APART]
    shown_apart = [e for e in entries if e.ok and e.design in APART]
    failed_designs, failed_diag, n_high = _caveats(entries)
    pct = fmt_level(alpha)
    if not ok:
        status = "no_design"
        head = "No design produced an estimate for this outcome."
    elif len(ok) == 1:
        e = ok[0]
        lo, hi = _interval(e)
        status = "single_design"
        head = (f"Only one design ({e.label}) produced an estimate: {_fmt(e.scaled.absolute)} "
                f"({pct}% CI {_fmt(lo)} to {_fmt(hi)}), {e.scaled.percent:+.1f}%. There is nothing to "
                "triangulate against; the estimate rests on that design's assumption alone "
                f"({ASSUMPTIONS.get(e.design, 'see methods')}).")
    else:
        signs = {(e.scaled.absolute > 0) - (e.scaled.absolute < 0) for e in ok}
        pairs_apart = [(a, b) for i, a in enumerate(ok) for b in ok[i + 1:]
                       if max(_interval(a)[0], _interval(b)[0]) > min(_interval(a)[1], _interval(b)[1])]
        excl = [e.label for e in ok if _interval(e)[0] > 0 or _interval(e)[1] < 0]
        est = "; ".join(f"{e.label} {_fmt(e.scaled.absolute)} ({_fmt(_interval(e)[0])} to "
                        f"{_fmt(_interval(e)[1])})" for e in ok)
        sig = (f"{len(excl)} of {len(ok)} intervals exclude zero" if excl else
               "no interval excludes zero: no design detects an effect")
        if 1 in signs and -1 in signs:
            status = "disagree_sign"
            head = f"The designs disagree in sign: {est}. {sig}."
        elif pairs_apart:
            status = "disagree_magnitude"
            apart = ", ".join(f"{a.label} vs {b.label}" for a, b in pairs_apart)
            head = (f"The designs agree in sign but their {pct}% intervals do not all overlap ({apart}): "
                    f"{est}. {sig}.")
        else:
            status = "agree"
            head = f"The designs agree in sign and their {pct}% intervals overlap: {est}. {sig}."
        if status != "agree":
            involved = {e.design for e in ok}
            explained = [s for s in failed_diag if any(s.startswith(e.label) for e in ok)]
            if explained:
                head += " Failed diagnostics that may explain it: " + "; ".join(explained) + "."
            else:
                head += (" No failed diagnostic explains it; the designs rest on different assumptions: "
                         + "; ".join(f"{_label(d, ok)}: {ASSUMPTIONS.get(d, '')}" for d in sorted(involved)) + ".")
    tail = []
    for e in shown_apart:
        lo, hi = _interval(e)
        tail.append(f"Not in the verdict: {e.label} {_fmt(e.scaled.absolute)} ({_fmt(lo)} to {_fmt(hi)}); "
                    f"{APART[e.design]}.")
    if failed_designs:
        tail.append("Designs that failed: " + "; ".join(failed_designs) + ".")
    if failed_diag and status in ("agree", "single_design", "no_design"):
        tail.append("Failed diagnostics: " + "; ".join(failed_diag) + ".")
    if n_high:
        tail.append(f"{n_high} high-severity flag(s) across the designs (see threats and flags).")
    text = " ".join([head, *tail])
    return Verdict(outcome=outcome, status=status, text=text, designs=tuple(e.design for e in ok),
                   failed_designs=tuple(failed_designs), failed_diagnostics=tuple(failed_diag), high_flags=n_high,
                   headline=headline_for(outcome, status, ok, alpha))


def _outcome_words(outcome: str) -> str:
    from evalint.outcomes import get_outcome

    try:
        return get_outcome(outcome).label.lower()
    except Exception:  # noqa: BLE001 - an unregistered outcome is named by its column
        return outcome.replace("_", " ")


def _change(e: Entry, pct: str, with_ci: bool = True) -> str:
    """"-4.69% (95% CI -8.88% to -0.504%)" on the percent scale, else on the absolute one."""
    s = e.scaled
    use_pct = all(math.isfinite(v) for v in (s.percent, s.pct_low, s.pct_high))
    est, lo, hi = (s.percent, s.pct_low, s.pct_high) if use_pct else (s.absolute, s.abs_low, s.abs_high)
    unit = "%" if use_pct else ""
    out = f"{'+' if est > 0 else ''}{fmt(est)}{unit}"
    if with_ci:
        out += f" ({pct}% CI {fmt(lo)}{unit} to {fmt(hi)}{unit})"
    return out


def _range(ok: Sequence[Entry]) -> str:
    """The span of the designs' estimates, in percent when every design has one."""
    pcts = [e.scaled.percent for e in ok]
    if all(math.isfinite(v) for v in pcts):
        vals, unit = sorted(abs(v) for v in pcts), "%"
    else:
        vals, unit = sorted(abs(e.scaled.absolute) for e in ok), ""
    return f"{fmt(vals[0])}{unit} to {fmt(vals[-1])}{unit}"


def headline_for(outcome: str, status: str, ok: Sequence[Entry], alpha: float = 0.05) -> str:
    """The verdict in one sentence a reader can act on (the summary's first line per outcome).

    When the only design with an estimate fails one of its diagnostics, or no design produced
    one, the sentence says there is no credible estimate rather than quoting a number.
    """
    pct = fmt_level(alpha)
    what = _outcome_words(outcome)
    if status == "no_design" or not ok:
        return f"No credible estimate for {what}: no design produced one."
    if status == "single_design":
        e = ok[0]
        failed = [d.name.replace("_", " ") for d in e.failed_diagnostics]
        if failed:
            return (f"No credible estimate for {what}: the only design with an estimate ({e.label}) fails its "
                    f"checks ({', '.join(failed)}).")
        return (f"Only one design ({e.label}) estimates {what}: {_change(e, pct)}; nothing to triangulate "
                "it against.")
    n = len(ok)
    excl = [e for e in ok if _interval(e)[0] > 0 or _interval(e)[1] < 0]
    direction = "fall" if ok[0].scaled.absolute < 0 else "rise"
    if status == "disagree_sign":
        return (f"The {n} designs disagree on the direction of the change in {what}; no conclusion on its "
                "direction can be drawn.")
    if status == "disagree_magnitude":
        return (f"The {n} designs agree on a {direction} in {what} but not on its size ({_range(ok)}): "
                f"their {pct}% intervals do not all overlap.")
    if not excl:
        return f"No design detects a change in {what}: all {n} {pct}% intervals include zero."
    if len(excl) == n:
        return (f"All {n} designs find a {direction} in {what} of {_range(ok)}, and their {pct}% intervals "
                "overlap and exclude zero.")
    return (f"The {n} designs agree on a {direction} in {what} ({_range(ok)}), but only {len(excl)} of {n} "
            f"{pct}% intervals exclude zero.")


def _label(design: str, entries: Sequence[Entry]) -> str:
    return next((e.label for e in entries if e.design == design), design)


def table_rows(entries: Sequence[Entry]) -> pd.DataFrame:
    """Long triangulation table: one row per design x outcome (failed designs included)."""
    rows = []
    for e in entries:
        s = e.scaled
        row: dict[str, Any] = {c: math.nan for c in TABLE_COLUMNS}
        row.update(outcome=e.outcome, design=e.design, label=e.label,
                   status="ok" if e.ok else ("failed" if e.error else "no estimate"),
                   error=e.error or "", key_diagnostic=key_diagnostic(e.design, e.diagnostics),
                   failed_diagnostics="; ".join(d.name for d in e.failed_diagnostics),
                   high_flags=len(e.high_flags))
        if e.result is not None:
            row["inference"] = e.result.inference.description
        if s is not None:
            row.update({k: getattr(s, k) for k in ("absolute", "abs_low", "abs_high", "percent", "pct_low",
                                                   "pct_high", "cumulative", "cum_low", "cum_high", "native")})
        rows.append(row)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)
