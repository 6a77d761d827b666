"""Record evalint's outputs on fixed cases, to show a refactor changes no number.

Not a test (it asserts nothing): run it before a change and after, then compare::

    python tests/architecture/record_outputs.py before.json
    # ... refactor ...
    python tests/architecture/record_outputs.py after.json
    python tests/architecture/record_outputs.py --compare before.json after.json

The cases: every registered estimator's ``contract_example()`` under its default inference
and under each inference declaration it accepts from a fixed list (a refused one records
its error message, which must not change either); ``evaluate()`` on the demo panel (the
triangulation table, verdicts, flags, ranked threats, diagnostics and the Markdown report
with its run-time lines removed); and every replication target (``evalint replicate --all``).
Numbers are stored exactly (``repr`` of the float) and compared exactly.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import pkgutil
import re
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd


def _value(x: Any) -> Any:
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return repr(x) if not math.isfinite(x) else x
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return str(x)


def _frame(df: Any) -> Any:
    if df is None:
        return None
    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        return _value(df)
    df = df.reset_index()
    return {"columns": [str(c) for c in df.columns],
            "rows": [[_value(v) for v in row] for row in df.itertuples(index=False)]}


def _result(r: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("method", "estimand", "estimate", "se", "ci", "p_value", "alpha", "scale", "n_obs",
                 "n_units", "n_periods", "plot_kind"):
        v = getattr(r, name, None)
        out[name] = [_value(u) for u in v] if isinstance(v, tuple) else _value(v)
    out["inference"] = str(getattr(getattr(r, "inference", None), "description", ""))
    out["effects"] = _frame(getattr(r, "effects", None))
    out["coefficients"] = _frame(getattr(r, "coefficients", None))
    out["series"] = _frame(getattr(r, "series", None))
    out["tables"] = {k: _frame(v) for k, v in sorted(dict(getattr(r, "tables", {}) or {}).items())}
    out["flags"] = [str(f) for f in getattr(r, "flags", ())]
    out["diagnostics"] = [str(d) for d in getattr(r, "diagnostics", ())]
    infl = getattr(r, "influence", None)
    out["influence_sum"] = None if infl is None else _value(float(np.nansum(np.asarray(infl, float))))
    try:
        out["summary"] = _scrub(str(r.summary()))
    except Exception as exc:  # noqa: BLE001 - recorded, compared like any output
        out["summary"] = f"{type(exc).__name__}: {exc}"
    return out


_RUNTIME = re.compile(r"(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?(\+00:00|Z| UTC)?|"
                      r"evalint \d+\.\d+[\w.+-]*|python \d+\.\d+\.\d+|numpy \d[\w.]*|pandas \d[\w.]*|"
                      r"\d+(\.\d+)? ?s elapsed|in \d+(\.\d+)? s|[Rr]un ?time[^*\n]*\W*\s*[\d.]+( s)?)")


def _scrub(text: str) -> str:
    """Remove what changes from run to run (timestamps, versions, timings)."""
    return _RUNTIME.sub("<run>", text)


def _inference_variants() -> list[tuple[str, Callable[[], Any]]]:
    from evalint.inference import specs
    from evalint.inference.permutation import ConleyTaber

    return [
        ("Analytic", lambda: specs.Analytic()),
        ("NeweyWest", lambda: specs.NeweyWest()),
        ("ARErrors", lambda: specs.ARErrors()),
        ("Clustered-CR1", lambda: specs.Clustered()),
        ("Clustered-CR2", lambda: specs.Clustered(kind="CR2")),
        ("Wild", lambda: specs.WildClusterBootstrap(reps=199, seed=3)),
        ("Multiplier", lambda: specs.MultiplierBootstrap(reps=199, seed=3)),
        ("Placebo", lambda: specs.Placebo(seed=3)),
        ("Jackknife", lambda: specs.Jackknife()),
        ("Bootstrap", lambda: specs.Bootstrap(reps=50, seed=3)),
        ("ConleyTaber", lambda: ConleyTaber(reps=199, seed=3)),
    ]


def _attempt(fn: Callable[[], Any]) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _result(fn())
    except Exception as exc:  # noqa: BLE001 - the error is an output too
        return {"error": type(exc).__name__, "message": _scrub(str(exc))}


def record_estimators() -> dict[str, Any]:
    import evalint.estimators
    from evalint.estimators.base import ESTIMATORS

    for mod in pkgutil.walk_packages(evalint.estimators.__path__, "evalint.estimators."):
        importlib.import_module(mod.name)
    out: dict[str, Any] = {}
    for name in sorted(ESTIMATORS):
        cls = ESTIMATORS[name]
        est, panel, kwargs = cls.contract_example()
        out[f"{name}/default"] = _attempt(lambda: est.fit(panel, **kwargs))
        for label, make in _inference_variants():
            kw = dict(kwargs)
            kw["inference"] = make()
            out[f"{name}/{label}"] = _attempt(lambda kw=kw: est.fit(panel, **kw))
    return out


def record_evaluate() -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from evalint.demo import demo_intervention, simulate_demo_panel
    from evalint.evaluate import evaluate

    sim = simulate_demo_panel(2022)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(sim.panel, demo_intervention(), outcomes=["emergency_admissions", "delayed_discharges"],
                      start="2021-04", seed=2022, fast=True, call="record")
    out: dict[str, Any] = {
        "table": _frame(ev.table()),
        "flags": _frame(ev.flags_frame()),
        "diagnostics": _frame(ev.diagnostics_frame()),
        "ranked_threats": _frame(ev.ranked_threats()),
        "verdicts": {o: [str(ev.verdicts[o].status), str(ev.verdicts[o].headline or ""),
                         _scrub(str(ev.verdicts[o].text))] for o in ev.outcomes},
        "results": {f"{d}/{o}": _result(r) for (d, o), r in sorted(ev.results.items()) if hasattr(r, "to_frame")},
    }
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev.report(Path(tmp) / "report.md")
        out["report_md"] = _scrub((Path(tmp) / "report.md").read_text())
    return out


def record_replications() -> dict[str, Any]:
    from evalint.replication.targets import list_targets, run_target

    out: dict[str, Any] = {}
    for tid in list_targets():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[tid] = _frame(run_target(tid))
        except Exception as exc:  # noqa: BLE001 - a skipped target (no data) is recorded as such
            out[tid] = {"error": type(exc).__name__, "message": _scrub(str(exc))}
    return out


SECTIONS = {"estimators": record_estimators, "evaluate": record_evaluate, "replicate": record_replications}


def _diff(a: Any, b: Any, path: str, out: list[str], limit: int = 40) -> None:
    if len(out) >= limit:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'after' if k not in a else 'before'}")
            else:
                _diff(a[k], b[k], f"{path}/{k}", out, limit)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (u, v) in enumerate(zip(a, b)):
            _diff(u, v, f"{path}[{i}]", out, limit)
    elif isinstance(a, str) and isinstance(b, str) and "\n" in a + b:
        for i, (u, v) in enumerate(zip(a.splitlines() + [""] * 9999, b.splitlines() + [""] * 9999)):
            if u != v:
                out.append(f"{path} line {i + 1}: {u[:160]!r} -> {v[:160]!r}")
                break
    elif a != b:
        out.append(f"{path}: {str(a)[:160]!s} -> {str(b)[:160]!s}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="+", help="output JSON (record) or BEFORE AFTER (--compare)")
    p.add_argument("--compare", action="store_true")
    p.add_argument("--only", choices=sorted(SECTIONS), action="append",
                   help="record only these sections (repeatable)")
    args = p.parse_args(argv)
    if args.compare:
        before, after = (json.loads(Path(f).read_text()) for f in args.files[:2])
        diffs: list[str] = []
        _diff(before, after, "", diffs)
        print("\n".join(diffs) if diffs else "identical")
        return 1 if diffs else 0
    record = {name: SECTIONS[name]() for name in (args.only or sorted(SECTIONS))}
    Path(args.files[0]).write_text(json.dumps(record, indent=0, sort_keys=True))
    n = sum(len(v) for v in record.values())
    print(f"recorded {n} cases in {args.files[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
