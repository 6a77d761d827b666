"""Time parsing, outcome kinds and option validation."""

from __future__ import annotations

import pandas as pd
import pytest

from evalint import OutcomeKind, get_outcome, list_outcomes, register_outcome, to_period
from evalint._typing import check_alpha, check_option
from evalint.data.timeparse import normalise_freq, to_periods
from evalint.errors import SpecificationError, TimeParseError


@pytest.mark.parametrize("value,freq,expected", [
    ("2022-07-01", "M", "2022-07"), ("2022-07-01", "Q", "2022Q3"), ("2022-07", "Q", "2022Q3"),
    ("2022Q3", "M", "2022-07"), (2015, "Y", "2015"), (pd.Timestamp("2023-01-31"), "W", "2023-01-30/2023-02-05"),
    (pd.Period("2022-08", "M"), "Q", "2022Q3"),
])
def test_to_period(value, freq, expected):
    assert str(to_period(value, freq)) == expected


def test_to_period_errors():
    with pytest.raises(TimeParseError, match="integers are read as years"):
        to_period(2015, "M")
    with pytest.raises(TimeParseError, match="is not a date"):
        to_period("soon", "M")


def test_normalise_freq_aliases():
    assert [normalise_freq(f) for f in ("MS", "monthly", "QE", "A", "W-SUN", "d")] == ["M", "M", "Q", "Y", "W", "D"]
    with pytest.raises(SpecificationError):
        normalise_freq("fortnightly")


def test_to_periods_explicit_freq_and_mismatch():
    s = pd.Series(pd.period_range("2020-01", periods=3, freq="M"))
    with pytest.raises(TimeParseError, match="monthly periods but freq='Q'"):
        to_periods(s, "Q")
    dates = pd.Series(pd.to_datetime(["2020-01-15", "2020-02-15", "2020-03-15"]))
    per, f = to_periods(dates, "M")
    assert f == "M" and list(per.astype(str)) == ["2020-01", "2020-02", "2020-03"]


def test_missing_time_values():
    with pytest.raises(TimeParseError, match="missing value"):
        to_periods(pd.Series(["2020-01-01", None]))


def test_outcome_registry():
    names = {k.name for k in list_outcomes()}
    assert {"emergency_admissions", "length_of_stay", "delayed_discharges", "continuous"} <= names
    ea = get_outcome("emergency_admissions")
    assert ea.is_count and ea.exposure == "population" and ea.reporting_scale == "rate_per_100k"
    los = get_outcome("length_of_stay")
    assert los.must_be_positive and los.weight == "spells"
    with pytest.raises(SpecificationError, match="not registered"):
        get_outcome("happiness")


def test_register_custom_outcome():
    k = OutcomeKind(name="readmissions_30d_test", label="30-day readmissions", measure="count",
                    unit_label="readmissions per month", exposure="population",
                    default_its_model="poisson")
    register_outcome(k)
    assert get_outcome("readmissions_30d_test") is k
    with pytest.raises(SpecificationError, match="already registered"):
        register_outcome(OutcomeKind(name="readmissions_30d_test", label="x", measure="count", unit_label="x"))
    with pytest.raises(SpecificationError, match="count models need measure='count'"):
        OutcomeKind(name="bad", label="bad", measure="duration", unit_label="d", default_its_model="poisson")


def test_check_option_and_alpha():
    assert check_option("kind", "CR1", ("CR1", "CR2")) == "CR1"
    with pytest.raises(SpecificationError, match="Choose one of: 'CR1', 'CR2'"):
        check_option("kind", "CR3", ("CR1", "CR2"))
    with pytest.raises(SpecificationError):
        check_alpha(0.7)
