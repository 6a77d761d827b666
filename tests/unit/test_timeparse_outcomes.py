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


# ---------------------------------------------------------------------------------
# time-zone-aware dates: London midnights stored in UTC
_LONDON_MONTHS = pd.date_range("2022-01-01", periods=12, freq="MS", tz="Europe/London")
_MONTHS = [f"2022-{m:02d}" for m in range(1, 13)]


@pytest.mark.parametrize("values", [
    pd.Series(_LONDON_MONTHS),                                   # aware, in London
    pd.Series([t.isoformat() for t in _LONDON_MONTHS]),          # '+00:00' in winter, '+01:00' in summer
    pd.Series(pd.date_range("2022-01-01", periods=12, freq="MS", tz="UTC")),  # UTC midnights
])
def test_aware_midnights_are_the_dates_of_their_own_zone(values):
    periods, freq = to_periods(values)
    assert freq == "M" and [str(p) for p in periods] == _MONTHS


@pytest.mark.parametrize("freq", [None, "M"])
@pytest.mark.parametrize("as_text", [False, True])
@pytest.mark.parametrize("months", [slice(0, 12), slice(3, 9)])  # a year; April-September only
def test_london_midnights_stored_in_utc_are_refused(freq, as_text, months):
    # 1 April 2022 in London is 2022-03-31 23:00 UTC: read as a UTC date it is March. With only
    # summer months every month fell one early, silently (Apr..Sep read as Mar..Aug)
    utc = pd.Series(_LONDON_MONTHS[months].tz_convert("UTC"))
    values = utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ") if as_text else utc
    with pytest.raises(TimeParseError, match=r"midnights in Europe/London.*tz_convert\('Europe/London'\)"):
        to_periods(values, freq)
    fixed = pd.to_datetime(values, utc=True).dt.tz_convert("Europe/London")  # the fix the message gives
    assert [str(p) for p in to_periods(fixed, freq)[0]] == _MONTHS[months]


def test_an_intervention_at_a_london_midnight_in_utc_is_refused():
    with pytest.raises(TimeParseError, match=r"midnight of 2022-07-01 in Europe/London.*'2022-07-01'"):
        to_period("2022-06-30T23:00:00Z", "M", "intervention")
    assert str(to_period("2022-07-01T00:00:00+01:00", "M")) == "2022-07"


@pytest.mark.parametrize("zone", ["Europe/Paris", "Europe/Berlin"])
def test_aware_dates_east_of_london_keep_their_own_date(zone):
    # 1 April 00:00 London is 1 April 01:00 in Paris: the same date, read as such
    periods, freq = to_periods(pd.Series(_LONDON_MONTHS.tz_convert(zone)))
    assert freq == "M" and [str(p) for p in periods] == _MONTHS
    assert str(to_period(pd.Timestamp("2022-07-01 01:00", tz=zone), "M")) == "2022-07"


@pytest.mark.parametrize("as_objects", [False, True])
def test_london_midnights_with_mixed_offsets_are_refused(as_objects):
    # every other month written in UTC ('Z', 23:00 the day before in summer), the rest in London time
    mixed = [t if i % 2 else t.tz_convert("UTC") for i, t in enumerate(_LONDON_MONTHS)]
    values = pd.Series(mixed, dtype=object) if as_objects else pd.Series(
        [t.isoformat().replace("+00:00", "Z") for t in mixed])
    with pytest.raises(TimeParseError, match=r"differing UTC offsets that are midnights in Europe/London"):
        to_periods(values)


def test_monthly_aggregation_and_populations_refuse_london_midnights_in_utc():
    from evalint.geography import icb_population
    from evalint.io.tidy import to_monthly

    days = pd.date_range("2022-04-01", "2022-05-31", tz="Europe/London")
    frame = pd.DataFrame({"org_code": "R0A", "date": days, "beds": 1.0})
    monthly = to_monthly(frame, stocks=["beds"], time="date")
    assert monthly["days_reported"].tolist() == [30, 31]  # April and May, as in London
    with pytest.raises(TimeParseError, match="midnights in Europe/London"):
        to_monthly(frame.assign(date=days.tz_convert("UTC")), stocks=["beds"], time="date")
    with pytest.raises(TimeParseError, match="midnights in Europe/London"):
        icb_population(_LONDON_MONTHS[3:9].tz_convert("UTC"))
