"""Fuzz Panel.from_frame and the TOML configuration: every input gives a valid result or a
typed EvalintError (never a raw numpy/pandas/Python exception), and the input frame is
never changed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalint import Panel
from evalint.errors import EvalintError

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)

_weird_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -1.0, 1e308, -1e308, 1e-308, 5e-324, 1e16, np.nan, np.inf]),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.text(max_size=4),
    st.none(),
    st.booleans(),
)
_weird_times = st.one_of(
    st.sampled_from(["2021-01", "2021-13", "2021-00", "01/04/2021", "13/13/2021", "foo", "", "2021Q5",
                     "2021", "2021-W05", "2021-02-30", "1900-01-01", "31/12/2021"]),
    st.integers(min_value=-5, max_value=3000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
)


@st.composite
def frames(draw) -> tuple[pd.DataFrame, dict]:
    n_units = draw(st.integers(1, 4))
    n_periods = draw(st.integers(1, 8))
    months = pd.period_range("2020-01", periods=n_periods, freq="M").astype(str).tolist()
    rows = [{"unit": f"u{i}", "month": m, "y": float(draw(st.integers(0, 500))),
             "population": 1000.0 + i, "cohort": months[-1] if i == 0 and n_periods > 2 else "never"}
            for i in range(n_units) for m in months]
    df = pd.DataFrame(rows)
    n_edits = draw(st.integers(0, 4))
    for _ in range(n_edits):
        row = draw(st.integers(0, len(df) - 1))
        col = draw(st.sampled_from(["y", "population", "month", "unit", "cohort"]))
        value = draw(_weird_times if col == "month" else _weird_values)
        df[col] = df[col].astype(object)
        df.at[row, col] = value
    if draw(st.booleans()):
        df = pd.concat([df, df.iloc[[draw(st.integers(0, len(df) - 1))]]], ignore_index=True)  # duplicate key
    if draw(st.booleans()):
        df = df.sample(frac=1.0, random_state=draw(st.integers(0, 1000))).reset_index(drop=True)
    kwargs = {"population": draw(st.sampled_from([None, "population"])),
              "cohort": draw(st.sampled_from([None, "cohort"])),
              "freq": draw(st.sampled_from([None, None, "M", "W", "Q"])),
              "missing": draw(st.sampled_from(["error", "drop"]))}
    return df, kwargs


@FUZZ
@given(frames())
def test_from_frame_fuzz(case):
    df, kwargs = case
    before = df.copy(deep=True)
    try:
        p = Panel.from_frame(df, unit="unit", time="month", outcome="y", **kwargs)
    except EvalintError:
        pass
    else:
        y = p.data["y"].to_numpy(float)
        assert np.isfinite(y).all() and (np.abs(y) <= 1e15).all()
        assert p.data.groupby([p.unit, p.time]).size().max() == 1
    pd.testing.assert_frame_equal(df, before)


# ------------------------------------------------------------------ TOML configuration
_toml_values = st.one_of(
    st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(['"false"', '"yes"', '"auto"', '"its"', '"2022-07"', "2022-07-01", "[]", '["its"]', "[1, 2]",
                     '{a = 1}', '"ics_golive_2022"', '"drop"', '"html"', '["md"]']),
)
_keys = {
    "data": ["path", "unit", "time", "outcomes", "missing", "freq", "pathh", "covariates"],
    "evaluation": ["fast", "seed", "alpha", "designs", "calendar", "start", "intervention", "fastt"],
    "output": ["dir", "formats", "name", "overwrite", "fromats"],
}


def _literal(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) and "e" not in repr(v) else "0.5"
    return str(v)


@st.composite
def configs(draw) -> str:
    lines = ['[data]', 'path = "d.csv"', 'time = "month"', 'outcomes = ["y"]']
    sections = {"data": [], "evaluation": [], "output": []}
    for _ in range(draw(st.integers(1, 4))):
        sec = draw(st.sampled_from(sorted(sections)))
        key = draw(st.sampled_from(_keys[sec]))
        if key in ("path", "time", "outcomes") or key in [k for k, _ in sections[sec]]:
            continue
        sections[sec].append((key, _literal(draw(_toml_values))))
    lines += [f"{k} = {v}" for k, v in sections["data"]]
    for sec in ("evaluation", "output"):
        if sections[sec]:
            lines.append(f"[{sec}]")
            lines += [f"{k} = {v}" for k, v in sections[sec]]
    return "\n".join(lines) + "\n"


@FUZZ
@given(configs())
def test_config_fuzz(tmp_path_factory, text):
    from evalint.evaluate.config import SCHEMA, evaluate_kwargs, load_config

    root = tmp_path_factory.mktemp("cfg")
    (root / "c.toml").write_text(text, encoding="utf-8")
    try:
        cfg = load_config(root / "c.toml")
        kw = evaluate_kwargs(cfg)
    except EvalintError:
        return
    # accepted: every key has its declared type (no string "false" read as true)
    for section, table in (("evaluation", cfg.evaluation), ("data", cfg.data)):
        for k, v in table.items():
            kinds = SCHEMA[section].get(k, ())
            if "boolean" in kinds:
                assert isinstance(v, bool), (k, v)
            if "integer" in kinds:
                assert isinstance(v, int) and not isinstance(v, bool), (k, v)
    if "fast" in kw:
        assert isinstance(kw["fast"], bool)


@pytest.mark.parametrize("text", ['fast = "false"', 'fast = "yes"', "fast = 0", 'seed = "1"', "alpha = true"])
def test_config_wrong_types_never_pass(tmp_path, text):
    from evalint.errors import ConfigError
    from evalint.evaluate.config import load_config

    (tmp_path / "c.toml").write_text(f'[data]\npath = "d.csv"\ntime = "t"\noutcomes = ["y"]\n[evaluation]\n{text}\n')
    with pytest.raises(ConfigError):
        load_config(tmp_path / "c.toml")
