"""One summary, three renderings (text, Markdown, HTML) from the same content.

A :class:`Summary` is a list of sections; each section is a title plus blocks
(paragraphs, key-value pairs, tables). The renderers only lay out what is there.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from evalint.diagnostics.base import CheckResult, Flag
from evalint.results.numbers import fmt_level, fmt_p, p_value_draws

__all__ = ["Section", "SummarisedResult", "Summary", "format_number"]


class _Inference(Protocol):
    @property
    def description(self) -> str: ...
    @property
    def note(self) -> str: ...


class _Provenance(Protocol):
    @property
    def evalint_version(self) -> str: ...
    @property
    def data_fingerprint(self) -> str | None: ...
    @property
    def seed(self) -> int | None: ...
    @property
    def created(self) -> str: ...
    @property
    def call(self) -> str: ...


class SummarisedResult(Protocol):
    """What :meth:`Summary.from_result` reads: the attributes of an
    :class:`~evalint.results.EffectResult` (typed here so this module need not import it)."""

    @property
    def method(self) -> str: ...
    @property
    def estimand(self) -> str: ...
    @property
    def term(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def outcome_label(self) -> str: ...
    @property
    def estimate(self) -> float: ...
    @property
    def se(self) -> float: ...
    @property
    def ci(self) -> tuple[float, float]: ...
    @property
    def p_value(self) -> float: ...
    @property
    def alpha(self) -> float: ...
    @property
    def scale(self) -> str: ...
    @property
    def inference(self) -> _Inference: ...
    @property
    def provenance(self) -> _Provenance: ...
    @property
    def intervention(self) -> Any: ...
    @property
    def n_units(self) -> int | None: ...
    @property
    def n_periods(self) -> int | None: ...
    @property
    def n_obs(self) -> int | None: ...
    @property
    def info(self) -> Mapping[str, Any]: ...
    @property
    def flags(self) -> tuple[Flag, ...]: ...
    @property
    def effects(self) -> pd.DataFrame: ...
    @property
    def coefficients(self) -> pd.DataFrame: ...
    @property
    def diagnostics(self) -> tuple[CheckResult, ...]: ...
    @property
    def references(self) -> tuple[str, ...]: ...
    def flags_frame(self) -> pd.DataFrame: ...

MAX_ROWS = 30


def format_number(x: Any, digits: int = 4) -> str:
    """Format a number for tables: significant digits, thousands grouping for large values."""
    if x is None or (np.ndim(x) == 0 and not isinstance(x, str) and _isna_scalar(x)):
        return ""
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, dict):  # per-unit values: "A: 1.2, B: 3.4", not a raw dict
        return ", ".join(f"{k.item() if isinstance(k, np.generic) else k}: {format_number(v, digits)}"
                         for k, v in x.items())
    if isinstance(x, (list, tuple)) and all(np.ndim(v) == 0 for v in x):
        return ", ".join(format_number(v, digits) if not isinstance(v, str) else v for v in x)
    if isinstance(x, pd.Timestamp):
        return str(x.date()) if x == x.normalize() else str(x)
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        ax = abs(float(x))
        if ax >= 1e5:
            return f"{x:,.0f}"
        if ax != 0 and ax < 1e-3:
            return f"{x:.3g}"
        return f"{x:.{digits}g}" if ax < 1 else f"{x:,.{max(digits - len(str(int(ax))), 1)}f}"
    return str(x)


def _isna_scalar(x: Any) -> bool:
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _confidence_label(alpha: float) -> str:
    """``95%`` for alpha 0.05, ``97.5%`` for 0.025 (never rounded to a wrong level)."""
    return f"{fmt_level(alpha)}%"


def _md(text: str) -> str:
    """A Markdown table cell: no raw HTML (``<script>`` is escaped), no line breaks, pipes escaped."""
    return html.escape(" ".join(str(text).split("\n")), quote=False).replace("|", "\\|")


@dataclass
class Section:
    """A titled part of a summary."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    table: pd.DataFrame | None = None
    note: str = ""


@dataclass
class Summary:
    """Renderable summary: ``str(summary)``, ``summary.as_markdown()``, ``summary.as_html()``."""

    title: str
    sections: list[Section]

    # ------------------------------------------------------------- content
    @classmethod
    def from_result(cls, r: SummarisedResult) -> Summary:
        pct = _confidence_label(r.alpha)
        lo, hi = r.ci
        na = "not available"
        ci = (f"{pct} CI {format_number(lo)} to {format_number(hi)}"
              if not (_isna_scalar(lo) or _isna_scalar(hi)) else f"{pct} CI {na}")
        head = Section("Result")
        head.pairs = [
            ("Method", r.method),
            ("Outcome", r.outcome_label or r.outcome),
            ("Estimand", r.estimand),
            (f"{r.term}", f"{format_number(r.estimate) or na} ({ci})"),
            ("Std. error", format_number(r.se) or na),
            ("p-value", fmt_p(r.p_value, p_value_draws(r)).removeprefix("p = ").removeprefix("p ") or na),
            ("Scale", r.scale),
            ("Inference", r.inference.description + (f"; {r.inference.note}" if r.inference.note else "")),
        ]
        if r.intervention is not None:
            # a period number or a year is a label, not a quantity: 1101, not "1,101"
            inter = r.intervention
            shown = (str(int(inter)) if isinstance(inter, (int, np.integer)) and not isinstance(inter, bool)
                     else format_number(inter))
            head.pairs.insert(2, ("Intervention", shown))
        dims = [f"{r.n_units} unit(s)" if r.n_units else "", f"{r.n_periods} period(s)" if r.n_periods else "",
                f"{r.n_obs} observations" if r.n_obs else ""]
        if any(dims):
            head.pairs.append(("Data", ", ".join(d for d in dims if d)))
        for k, v in r.info.items():
            head.pairs.append((str(k), format_number(v) if not isinstance(v, str) else v))
        sections = [head]
        if r.flags:
            fl = r.flags_frame()[["severity", "kind", "message", "source"]]
            sections.append(Section(
                "Flags", table=fl,
                note="Concurrent policy events and failed diagnostics that threaten this result.",
            ))
        else:
            sections.append(Section("Flags", paragraphs=["No flags were raised."]))
        eff = r.effects
        if eff is not None and len(eff):
            cols = [c for c in ["term", "group", "time", "rel_time", "estimate", "std_error",
                                "conf_low", "conf_high", "band_low", "band_high", "p_value"]
                    if c in eff.columns and eff[c].notna().any()]
            sections.append(Section("Effects", table=eff[cols],
                                    note=r.info.get("effects_note", "")
                                    if isinstance(r.info.get("effects_note", ""), str) else ""))
        coef = r.coefficients
        if coef is not None and len(coef):
            cols = [c for c in ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
                    if c in coef.columns]
            sections.append(Section("Coefficients", table=coef[cols]))
        if r.diagnostics:
            sections.append(Section("Diagnostics", paragraphs=[str(d) for d in r.diagnostics]))
        prov = r.provenance
        sections.append(Section("Provenance", pairs=[
            ("evalint", prov.evalint_version), ("Data fingerprint", prov.data_fingerprint or ""),
            ("Seed", "" if prov.seed is None else str(prov.seed)), ("Created", prov.created),
        ] + ([("Call", prov.call)] if prov.call else [])))
        if r.references:
            sections.append(Section("References", paragraphs=list(r.references)))
        return cls(title=f"{r.method}: {r.outcome_label or r.outcome}", sections=sections)

    # ------------------------------------------------------------ renderers
    @staticmethod
    def _cells(df: pd.DataFrame) -> tuple[list[str], list[list[str]], int]:
        shown = df.head(MAX_ROWS)
        rows = [[" ".join((format_number(v) if not isinstance(v, str) else v).splitlines()) for v in row]
                for row in shown.itertuples(index=False)]
        return [str(c) for c in df.columns], rows, len(df) - len(shown)

    def __str__(self) -> str:
        out = [self.title, "=" * min(len(self.title), 100)]
        for s in self.sections:
            out += ["", s.title, "-" * len(s.title)]
            if s.pairs:
                w = min(max(len(k) for k, _ in s.pairs), 24)
                for k, v in s.pairs:
                    if len(k) > w:  # long labels get their own line so values stay aligned
                        out += [k, f"{'':<{w}}  {v}"]
                    else:
                        out.append(f"{k:<{w}}  {v}")
            out += s.paragraphs
            if s.table is not None:
                cols, rows, more = self._cells(s.table)
                cols_w = [min(max([len(c)] + [len(r[i]) for r in rows]), 60) for i, c in enumerate(cols)]
                out.append("  ".join(c.ljust(cols_w[i]) for i, c in enumerate(cols)))
                for r in rows:
                    out.append("  ".join((v if len(v) <= 60 else v[:57] + "...").ljust(cols_w[i])
                                         for i, v in enumerate(r)))
                if more:
                    out.append(f"... {more} more row(s); see to_frame()")
            if s.note:
                out.append(s.note)
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)

    def as_text(self) -> str:
        return str(self)

    def as_markdown(self) -> str:
        """Markdown rendering (tables as pipe tables)."""
        out = [f"## {html.escape(self.title, quote=False)}"]
        for s in self.sections:
            out += ["", f"### {html.escape(s.title, quote=False)}", ""]
            if s.pairs:
                out += ["| | |", "|---|---|"] + [f"| {_md(k)} | {_md(v)} |" for k, v in s.pairs]
            out += [html.escape(p, quote=False) for p in s.paragraphs]
            if s.table is not None:
                cols, rows, more = self._cells(s.table)
                out += ["| " + " | ".join(_md(c) for c in cols) + " |", "|" + "---|" * len(cols)]
                out += ["| " + " | ".join(_md(v) for v in r) + " |" for r in rows]
                if more:
                    out.append(f"\n*{more} more row(s); see `to_frame()`*")
            if s.note:
                out += ["", f"*{html.escape(s.note, quote=False)}*"]
        return "\n".join(out)

    def as_html(self) -> str:
        """HTML fragment (no external resources)."""
        e = html.escape
        out = [f'<div class="evalint-summary"><h2>{e(self.title)}</h2>']
        for s in self.sections:
            out.append(f"<h3>{e(s.title)}</h3>")
            if s.pairs:
                out.append("<table>" + "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in s.pairs)
                           + "</table>")
            out += [f"<p>{e(p)}</p>" for p in s.paragraphs]
            if s.table is not None:
                cols, rows, more = self._cells(s.table)
                out.append("<table><thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr></thead><tbody>")
                out += ["<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>" for r in rows]
                out.append("</tbody></table>")
                if more:
                    out.append(f"<p><em>{more} more row(s); see to_frame()</em></p>")
            if s.note:
                out.append(f"<p><em>{e(s.note)}</em></p>")
        out.append("</div>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.as_html()
