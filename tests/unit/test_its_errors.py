"""Bad input to the ITS estimators: each a clear EvalintError (or a counted warning)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.errors import (
    DroppedRowsWarning, EvalintError, InvalidValueError, SpecificationError, UnbalancedPanelError,
)
from evalint.estimators.its import CountITS, SegmentedRegression, count_its, segmented_regression


def _frame(n=48, start="2019-01"):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"month": pd.period_range(start, periods=n, freq="M").astype(str),
                         "y": 10 + rng.normal(size=n), "pop": 1000.0})


def _panel(**kw):
    return Panel.from_frame(_frame(**kw), time="month", outcome="y", population="pop")


@pytest.mark.parametrize("date,match", [
    ("2018-06-01", r"maps to 2018-06, but the series starts at 2019-01"),
    ("2019-01-15", r"series starts at 2019-01"),
    ("2023-02-01", r"after the series ends \(2022-12\)"),
])
def test_intervention_outside_the_data(date, match):
    with pytest.raises(SpecificationError, match=match):
        segmented_regression(_panel(), date, calendar=False)


def test_too_few_pre_periods_error_gives_the_count_and_is_overridable():
    p = _panel()
    with pytest.raises(SpecificationError, match=r"Only 5 pre-intervention monthly point\(s\).*min_pre=5"):
        segmented_regression(p, "2019-06", calendar=False)
    r = segmented_regression(p, "2019-06", min_pre=5, calendar=False)
    assert r.info["Pre / post periods"].startswith("5 /")


def test_missing_months_listed():
    df = _frame()
    df.loc[[20, 21, 30], "y"] = np.nan
    with pytest.warns(DroppedRowsWarning, match="Dropped 3 row"):
        p = Panel.from_frame(df, time="month", outcome="y", missing="drop")
    with pytest.raises(UnbalancedPanelError, match=r"missing 3 monthly period\(s\).*'2020-09', '2020-10', '2021-07'"):
        segmented_regression(p, "2021-01", calendar=False)


def test_gaps_in_the_raw_frame_are_caught_by_the_panel():
    df = _frame().drop(index=[10, 11])
    with pytest.raises(EvalintError, match=r"misses 2 period"):
        Panel.from_frame(df, time="month", outcome="y")


def test_population_of_zero_is_reported_clearly():
    df = _frame()
    df.loc[5, "pop"] = 0.0
    with pytest.raises(InvalidValueError, match="population.*pop"):
        Panel.from_frame(df, time="month", outcome="y", population="pop")


def test_zero_population_reaching_the_its_path_directly():
    """Guard in the ITS path itself (a panel assembled by other code): names unit, column and months."""
    from evalint.estimators.its.common import extract_series

    p = _panel()
    bad = p.data
    bad.loc[3, "pop"] = 0.0
    object.__setattr__(p, "_data", bad)
    with pytest.raises(InvalidValueError, match=r"population column 'pop' of unit 'series' is zero.*2019-04"):
        extract_series(p, "y")


def test_multi_unit_panel_needs_a_unit():
    df = pd.concat([_frame().assign(area=a) for a in ("A", "B")])
    p = Panel.from_frame(df, unit="area", time="month", outcome="y")
    with pytest.raises(SpecificationError, match=r"2 units.*unit=<id>.*aggregate.*its_by_unit"):
        segmented_regression(p, "2021-01", calendar=False)
    r = segmented_regression(p, "2021-01", unit="B", calendar=False)
    assert r.info["Unit"] == "B"
    with pytest.raises(SpecificationError, match="unit='C' is not in the panel"):
        segmented_regression(p, "2021-01", unit="C", calendar=False)


def test_no_intervention_date():
    with pytest.raises(SpecificationError, match="No intervention date given"):
        segmented_regression(_panel(), calendar=False)


def test_intervention_given_twice():
    with pytest.raises(SpecificationError, match="given twice"):
        SegmentedRegression(interventions="2021-01").fit(_panel(), intervention="2021-01", calendar=False)


def test_date_from_panel_cohort():
    df = _frame()
    df["cohort"] = "2021-01"
    p = Panel.from_frame(df, time="month", outcome="y", cohort="cohort")
    r = segmented_regression(p, calendar=False)
    assert r.intervention == "intervention 2021-01"


def test_too_short_post_period_for_a_slope():
    with pytest.raises(SpecificationError, match="rank deficient|no post-intervention"):
        segmented_regression(_panel(), "2022-12", calendar=False)


def test_bad_options():
    with pytest.raises(SpecificationError, match="errors='gls'"):
        SegmentedRegression(errors="gls")
    with pytest.raises(SpecificationError, match="model='zip'"):
        CountITS(model="zip")
    with pytest.raises(SpecificationError, match="focus='x'"):
        segmented_regression(_panel(), "2021-01", focus="x", calendar=False)
    with pytest.raises(SpecificationError, match="outcome='z'"):
        count_its(_panel(), "2021-01", outcome="z", calendar=False)
