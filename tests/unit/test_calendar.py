"""Policy calendar: package data, events, presets and the confounding check.

Expected values come from outside the code under test: the project's curated CSVs
(``shared/domain/policy_events.csv``, ``evalint/geography/icbs.csv``), read here with plain
pandas, and closed-form window arithmetic on synthetic calendars (an event placed k
periods from the intervention must land in the category and severity the rules in
``methods/policy_churn.md`` give for k).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pandas as pd
import pytest

from evalint.calendar import (
    Intervention,
    PolicyCalendar,
    PolicyEvent,
    list_presets,
    load_icbs,
    resolve_preset,
)
from evalint.errors import (
    ColumnNotFoundError,
    DuplicateRowsError,
    EvalintError,
    InvalidValueError,
    MissingValuesError,
    SpecificationError,
    TimeParseError,
)

REPO = Path(__file__).resolve().parents[2]
PRESETS = ("asc_discharge_fund_2022", "bcf_2015", "ics_golive_2022", "ics_waves", "vanguards_2015")


@pytest.fixture(scope="module")
def shared_events() -> pd.DataFrame:
    """The curated policy_events.csv, read independently of evalint."""
    candidates = []
    env = os.environ.get("EVALINT_DATA_DIR")
    if env:
        candidates += [Path(env) / "domain", Path(env).parent / "domain"]
    candidates.append(REPO.parent / "shared" / "domain")
    for folder in candidates:
        if (folder / "policy_events.csv").exists():
            return pd.read_csv(folder / "policy_events.csv", dtype=str, keep_default_na=False)
    pytest.skip("shared/domain/policy_events.csv not found beside the repository or "
                "EVALINT_DATA_DIR")


@pytest.fixture(scope="module")
def package_events() -> pd.DataFrame:
    return pd.read_csv(REPO / "evalint" / "calendar" / "events.csv", dtype=str,
                       keep_default_na=False)


@pytest.fixture(scope="module")
def default_cal() -> PolicyCalendar:
    return PolicyCalendar.default()


def ev(id_: str, start: str, end: str | None = None, outcomes: str = "emergency_admissions",
       **kw) -> PolicyEvent:
    return PolicyEvent(id=id_, name=id_.replace("_", " "), start=start, end=end, outcomes=outcomes,
                       source=f"test source for {id_}", **kw)


# --------------------------------------------------------------------------------- package data
def _revisions() -> pd.DataFrame:
    return pd.read_csv(REPO / "evalint" / "calendar" / "event_revisions.csv", dtype=str,
                       keep_default_na=False)


def test_package_is_shared_csv_plus_revisions(shared_events, package_events):
    """Every shared row is kept unless a revision removes it; only revised cells change."""
    rev = _revisions()
    removed = set(rev.loc[rev["action"] == "remove", "event_id"])
    added = set(rev.loc[rev["action"] == "add", "event_id"])
    assert removed == {"discharge_funding_evaluation_nihr", "doctors_strikes_summer_autumn_2023"}
    assert set(package_events["event_id"]) == (set(shared_events["event_id"]) - removed) | added
    assert len(package_events) == len(shared_events) - len(removed) + len(added)
    upd = rev.loc[rev["action"] == "update"]
    pkg = package_events.set_index("event_id")
    for _, row in shared_events.iterrows():
        if row["event_id"] in removed:
            continue
        changed = {c for _, r in upd.loc[upd["event_id"] == row["event_id"]].iterrows()
                   for c in rev.columns if c not in ("action", "event_id", "review_ref") and r[c]}
        for col in shared_events.columns.drop("event_id"):
            if col not in changed:
                assert pkg.at[row["event_id"], col] == row[col], (row["event_id"], col)
    # every revised or added row says which part of the review it implements
    for eid in set(upd["event_id"]) | added:
        assert pkg.at[eid, "revision"], eid


def test_unverified_marker_matches_source_text(package_events):
    expected = package_events.set_index("event_id")["source"].str.contains("unverified", case=False)
    got = package_events.set_index("event_id")["unverified"].map({"True": True, "False": False})
    assert got.loc[expected.index].tolist() == expected.tolist()
    cal = PolicyCalendar.default()
    assert {e.id for e in cal if e.unverified} == set(expected[expected].index)
    # the review corroborated ICS wave 5's membership and the COVID-era rows' sources
    assert not cal.get("ics_wave5").unverified and not cal.get("covid_omicron").unverified


def test_scope_type_is_first_word_of_scope(package_events, default_cal):
    first = package_events.set_index("event_id")["scope"].str.split(r"[\s:(,]", regex=True).str[0]
    for event in default_cal:
        assert event.scope == first[event.id]
        assert event.scope_note == package_events.set_index("event_id").at[event.id, "scope"]


def test_ics_wave_units_are_the_icbs_of_that_wave(default_cal):
    icbs = pd.read_csv(REPO / "evalint" / "geography" / "icbs.csv", dtype=str, keep_default_na=False)
    waves = {"ics_wave1_shadow_acs": "wave1_shadow_acs_2017", "ics_wave2": "wave2_2018",
             "ics_wave3": "wave3_2019", "ics_wave4": "wave4_2020", "ics_wave5": "wave5_2020_12",
             "ics_wave6_full_coverage": "wave6_2021_04"}
    seen: list[str] = []
    for event_id, wave in waves.items():
        expected = set(icbs.loc[icbs["ics_wave"] == wave, "icb_ods_code"])
        assert set(default_cal.get(event_id).units) == expected
        seen += list(expected)
    assert sorted(seen) == sorted(icbs["icb_ods_code"]) and len(seen) == 42
    # every other event has no unit list
    assert all(e.units is None for e in default_cal if e.id not in waves)


def test_default_calendar_events(shared_events, default_cal):
    assert len(default_cal) == len(_revisions().query("action == 'add'")) + 78 - 2
    assert {e.nation for e in default_cal} == {"England", "Scotland", "Wales", "NI"}
    row = shared_events.set_index("event_id").loc["bcf_2015_16"]
    bcf = default_cal.get("bcf_2015_16")
    assert bcf.start == pd.Timestamp(row["start_date"]) and bcf.end == pd.Timestamp(row["end_date"])
    assert bcf.outcomes == tuple(row["outcomes_affected"].split(";"))
    # "emergency_admissions:down (planned);delayed_discharges:down (planned)"
    assert dict(bcf.direction) == {"emergency_admissions": "down", "delayed_discharges": "down",
                                   "care_home_admissions": "ambiguous"}
    assert bcf.source == row["source"]
    assert default_cal.get("d2a_national_funding_ends").end is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        bcf.start = pd.Timestamp("2020-01-01")
    with pytest.raises(TypeError):
        bcf.direction["emergency_admissions"] = "up"


def test_to_frame_round_trips_through_csv(tmp_path, default_cal):
    path = tmp_path / "cal.csv"
    default_cal.to_csv(path)
    again = PolicyCalendar.from_csv(path)
    assert again == default_cal
    frame = default_cal.to_frame()
    assert list(frame.columns)[:4] == ["event_id", "name", "start_date", "end_date"]
    assert frame["start_date"].is_monotonic_increasing


# --------------------------------------------------------------------------------- from_csv
def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "local.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_from_csv_minimal_columns_get_defaults(tmp_path):
    path = _write(tmp_path, "event_id,name,start_date,source\n"
                            "local_hub,Discharge hub opens,2021-05-01,"
                            "trust board papers (source: unverified)\n")
    cal = PolicyCalendar.from_csv(path)
    e = cal.get("local_hub")
    assert (e.nation, e.scope, e.date_precision, e.end, e.outcomes) == (
        "England", "national", "day", None, ())
    assert e.unverified is True


def test_from_csv_without_source_column_fails(tmp_path):
    path = _write(tmp_path, "event_id,name,start_date\nx,X,2021-01-01\n")
    with pytest.raises(ColumnNotFoundError, match="'source'"):
        PolicyCalendar.from_csv(path)


@pytest.mark.parametrize("body, error, words", [
    ("a,A,2021-01-01,s\nb,B,2021-13-45,s\n", TimeParseError, ["row 3", "'b'", "start_date"]),
    ("a,A,2021-01-01,\n", MissingValuesError, ["'source'", "'a'"]),
    ("a,A,2021-01-01,s\na,B,2021-02-01,s\n", DuplicateRowsError, ["'a'"]),
])
def test_from_csv_bad_rows_name_the_row(tmp_path, body, error, words):
    path = _write(tmp_path, "event_id,name,start_date,source\n" + body)
    with pytest.raises(error) as info:
        PolicyCalendar.from_csv(path)
    for word in words:
        assert word in str(info.value)


def test_from_csv_end_before_start_and_bad_scope(tmp_path):
    path = _write(tmp_path, "event_id,name,start_date,end_date,source\n"
                            "z,Z,2021-05-01,2021-04-01,s\n")
    with pytest.raises(InvalidValueError, match="'z'.*before it starts"):
        PolicyCalendar.from_csv(path)
    path = _write(tmp_path, "event_id,name,start_date,scope,source\nz,Z,2021-05-01,regional,s\n")
    with pytest.raises(InvalidValueError, match="national.*subset"):
        PolicyCalendar.from_csv(path)
    with pytest.raises(EvalintError):
        PolicyCalendar.from_csv(tmp_path / "missing.csv")


# --------------------------------------------------------------------------------- calendar API
def test_add_returns_new_calendar(default_cal):
    bigger = default_cal.add(id="local_x", name="Local X", start="2022-07-01",
                             outcomes="emergency_admissions", source="local board minutes")
    assert len(bigger) == len(default_cal) + 1
    assert "local_x" in bigger and "local_x" not in default_cal
    also = default_cal.add(event_id="local_y", name="Y", start_date="2022-01-01", source="s",
                           outcomes_affected="delayed_discharges;length_of_stay",
                           expected_direction="delayed_discharges:down")
    assert dict(also.get("local_y").direction) == {"delayed_discharges": "down",
                                                   "length_of_stay": "ambiguous"}
    with pytest.raises(EvalintError, match="twice"):
        default_cal.add(ev("bcf_2015_16", "2015-04-01"))
    with pytest.raises(SpecificationError, match="source"):
        default_cal.add(id="q", name="Q", start="2020-01-01")
    with pytest.raises(MissingValuesError, match="source"):
        PolicyEvent(id="q", name="Q", start="2020-01-01", source="  ")


def test_between_and_get(default_cal):
    dec = default_cal.between("2022-12-01", "2022-12-31")
    ids = {e.id for e in dec}
    assert {"rcn_strike_dec2022", "winter_2022_23_pressure", "asc_discharge_fund_2022_23"} <= ids
    assert "covid_lockdown1" not in ids and "jr_doctors_strike_mar2023" not in ids
    # every returned event is active at some time in the interval, computed by hand
    for e in dec:
        assert e.start <= pd.Timestamp("2022-12-31")
        assert (e.end or e.start) >= pd.Timestamp("2022-12-01")
    with pytest.raises(SpecificationError, match="rcn_strike_dec2022"):
        default_cal.get("rcn_strike_dec2021")


# --------------------------------------------------------------------------------- presets
def test_presets_dates_units_and_events(default_cal, shared_events):
    assert list_presets() == sorted(PRESETS)
    icbs = load_icbs()
    golive = resolve_preset("ics_golive_2022")
    assert golive.date == pd.Timestamp("2022-07-01")
    assert set(golive.units) == set(icbs["icb_ods_code"]) and len(golive.units) == 42
    waves = resolve_preset("ics_waves")
    assert dict(waves.unit_dates) == dict(zip(icbs["icb_ods_code"], icbs["ics_designation_date"]))
    assert waves.is_staggered and len(set(waves.unit_dates.values())) == 6
    asc = resolve_preset("asc_discharge_fund_2022")
    assert {"asc_discharge_fund_2022_23", "discharge_fund_200m_jan2023"} <= set(asc.event_ids)
    src = shared_events.set_index("event_id")
    # money reached the frontline in December 2022 (40% tranche; review section 1b)
    assert asc.date == pd.Timestamp("2022-12-01") and asc.phase == "spending"
    assert asc.anticipation_start == pd.Timestamp("2022-09-22")
    assert asc.alternative_dates == (pd.Timestamp("2022-11-16"),)
    assert asc.end == pd.Timestamp("2023-03-31")
    assert resolve_preset("bcf_2015").date == pd.Timestamp("2015-04-01")
    vanguards = resolve_preset("vanguards_2015")
    assert vanguards.date == pd.Timestamp(src.at["vanguards_wave1", "start_date"])
    for name in PRESETS:
        iv = resolve_preset(name)
        assert iv.source
        for eid in (*iv.event_ids, *iv.related_event_ids):
            assert eid in default_cal, (name, eid)


def test_unknown_preset_lists_presets(default_cal):
    with pytest.raises(SpecificationError) as info:
        resolve_preset("ics_golive_2023")
    for name in PRESETS:
        assert name in str(info.value)
    with pytest.raises(SpecificationError) as info:
        default_cal.check("ics_golive_2023", outcome="emergency_admissions")
    assert "ics_golive_2022" in str(info.value) and "bcf_2015" in str(info.value)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_never_flagged_against_itself(default_cal, name):
    iv = resolve_preset(name)
    for outcome in ("emergency_admissions", "length_of_stay", "delayed_discharges", None):
        res = default_cal.check(name, outcome=outcome, pre=240, post=240, include_all=True)
        listed = set(res.table["event_id"])
        assert not listed & set(iv.event_ids)
        assert not {f.event_id for f in res.flags} & set(iv.event_ids)
        assert len(res.table) > 0


# --------------------------------------------------------------------------------- done criterion
def test_ics_golive_check_lists_the_discharge_and_strike_events(default_cal, package_events):
    res = default_cal.check("ics_golive_2022", outcome="emergency_admissions", pre=24, post=12)
    assert res.name == "policy_calendar"
    table = res.table.set_index("event_id")
    # the March 2020 requirements were superseded on 1 Sep 2020 (no change point at their end)
    expected = ["discharge_100_day_challenge", "covid_omicron_ba45", "hds_policy_operating_model",
                "hdcs_policy_2021", "d2a_national_funding_ends", "asc_discharge_fund_2022_23",
                "discharge_fund_200m_jan2023", "rcn_strike_dec2022", "jr_doctors_strike_mar2023",
                "winter_2022_23_pressure"]
    src = package_events.set_index("event_id")["source"]
    for eid in expected:
        assert eid in table.index, eid
        assert table.at[eid, "source"] == src[eid]
        assert table.at[eid, "reason"]
    assert "icb_statutory_go_live" not in table.index  # the intervention itself
    assert "covid_hospital_discharge_requirements" not in table.index
    # CSV lists only delayed discharges/LOS for the discharge policies: indirect channel
    assert table.at["d2a_national_funding_ends", "channel"] == "indirect (bed occupancy)"
    assert table.at["rcn_strike_dec2022", "channel"] == "indirect (shared capacity)"
    assert table.loc[table["channel"] != "listed", "severity"].isin(["medium", "low"]).all()
    assert table.at["winter_2022_23_pressure", "channel"] == "listed"
    # window 2020-07..2023-06 (closed form): lockdown 1 ends 2020-06-30 -> change in 2020-07
    assert table.at["covid_lockdown1", "overlap"] == "pre_window"
    assert "jr_doctors_strike_jun2024" not in table.index
    # events of other nations ignored; Wales' DTOC suspension ends 2023-04 inside the window
    assert "wales_dtoc_suspended" not in table.index
    assert list(res.table.columns[:12]) == ["event_id", "name", "start", "end", "overlap",
                                            "moves_outcome", "direction", "differential",
                                            "severity", "reason", "source", "unverified"]
    assert res.passed is False  # co-timed heatwave and geography switch move admissions


# --------------------------------------------------------------------------------- rules
T = "2020-07-01"


@pytest.fixture(scope="module")
def rule_cal() -> PolicyCalendar:
    return PolicyCalendar([
        ev("cotimed", "2020-08-15"),                         # T+1
        ev("anticip", "2020-05-10"),                         # T-2
        ev("straddle", "2019-10-01", "2021-03-31"),          # starts T-9, ends after T+8
        ev("post", "2021-01-01"),                            # T+6
        ev("pre", "2019-09-01"),                             # T-10
        ev("edge_pre", "2019-07-01"),                        # T-12 = first window period
        ev("out_pre", "2019-06-30"),                         # T-13
        ev("edge_post", "2021-06-30"),                       # T+11 = last window period
        ev("out_post", "2021-07-01"),                        # T+12
        ev("background", "2018-01-01", "2022-12-31"),        # no change inside the window
        ev("ends_at_t", "2019-01-01", "2020-06-30"),         # ends -> change in T
        ev("indirect", "2020-07-10", outcomes="delayed_discharges"),
        ev("measure", "2020-07-10", outcomes="delayed_discharges", kind="data_definition_change"),
        ev("unrelated", "2020-07-10", outcomes="mortality"),
        ev("scot", "2020-07-10", nation="Scotland"),
    ])


def test_overlap_and_severity_single_series(rule_cal):
    # an ICB series: no step-noise scale, so sizes do not enter (the national scale is tested in
    # test_churn_calibration.py)
    res = rule_cal.check(T, outcome="emergency_admissions", pre=12, post=12, co_timed=2, level="icb")
    tab = res.table.set_index("event_id")
    expected = {
        "cotimed": ("co_timed", "high"), "anticip": ("anticipation", "high"),
        "straddle": ("straddles", "medium"), "ends_at_t": ("co_timed", "high"),
        "post": ("post_window", "medium"), "pre": ("pre_window", "medium"),
        "edge_pre": ("pre_window", "medium"), "edge_post": ("post_window", "medium"),
        "indirect": ("co_timed", "medium"),
    }
    assert set(tab.index) == set(expected)
    for eid, (overlap, severity) in expected.items():
        assert (tab.at[eid, "overlap"], tab.at[eid, "severity"]) == (overlap, severity), eid
    assert tab["differential"].isna().all()  # no comparison group
    assert res.passed is False
    assert len(res.flags) == len(tab) and all(f.kind == "confounding" for f in res.flags)
    order = {"high": 0, "medium": 1, "low": 2}
    keys = [(order[f.severity], pd.Timestamp(f.start), f.event_id) for f in res.flags]
    assert keys == sorted(keys)
    again = rule_cal.check(T, outcome="emergency_admissions", pre=12, post=12, co_timed=2, level="icb")
    assert again.flags == res.flags and again.table.equals(res.table)


def test_include_all_and_nation(rule_cal):
    res = rule_cal.check(T, outcome="emergency_admissions", pre=12, post=12, co_timed=2,
                         include_all=True)
    tab = res.table.set_index("event_id")
    assert tab.at["unrelated", "severity"] == "info" and not tab.at["unrelated", "moves_outcome"]
    assert tab.at["measure", "severity"] == "info"  # data changes have no indirect channel
    assert "unrelated" not in {f.event_id for f in res.flags}
    assert "scot" not in tab.index
    scot = rule_cal.check(T, outcome="emergency_admissions", pre=12, post=12, nation="Scotland")
    assert list(scot.table["event_id"]) == ["scot"]


def test_passes_without_high_threat(rule_cal):
    only_post = PolicyCalendar([rule_cal.get("post"), rule_cal.get("pre")])
    res = only_post.check(T, outcome="emergency_admissions", pre=12, post=12, level="icb")
    # no high threat; the window's ends lie outside this two-event calendar's dates, so no pass
    assert res.passed is None and [f.severity for f in res.flags if f.event_id] == ["medium", "medium"]


def test_date_precision_widens_the_change(rule_cal):
    quarter = PolicyCalendar([ev("q", "2020-04-01", date_precision="quarter")])
    day = PolicyCalendar([ev("q", "2020-04-01")])
    kw = dict(outcome="emergency_admissions", pre=12, post=12, co_timed=1)
    # quarter precision: the start could be any month 2020-04..06, so within 1 month of T
    assert quarter.check(T, **kw).table["overlap"].tolist() == ["anticipation"]
    assert day.check(T, **kw).table["overlap"].tolist() == ["pre_window"]


@pytest.mark.parametrize("freq, t, pre, post, k, inside, outside, cotimed, later", [
    ("Q", "2022-07-01", 8, 4, 1, "2023-06-30", "2023-07-01", "2022-10-15", "2023-01-15"),
    ("W", "2022-07-04", 10, 6, 2, "2022-08-14", "2022-08-15", "2022-07-20", "2022-07-27"),
    ("Y", "2015-04-01", 3, 2, 0, "2016-12-31", "2017-01-01", "2015-12-01", "2016-01-01"),
])
def test_windows_in_periods_of_freq(freq, t, pre, post, k, inside, outside, cotimed, later):
    cal = PolicyCalendar([ev("inside", inside), ev("outside", outside), ev("cot", cotimed),
                          ev("later", later)])
    tab = cal.check(t, outcome="emergency_admissions", pre=pre, post=post, freq=freq,
                    co_timed=k).table.set_index("event_id")
    assert "inside" in tab.index and "outside" not in tab.index
    assert tab.at["cot", "overlap"] == "co_timed"
    assert tab.at["later", "overlap"] == "post_window"


def test_differential_hits(rule_cal):
    treated, comparison = ["A", "B"], ["C", "D"]
    cal = PolicyCalendar([
        ev("only_treated", "2021-01-01", scope="subset", units=("A", "B")),
        ev("half_each", "2021-01-01", scope="subset", units=("A", "C")),
        ev("unlisted_subset", "2021-01-01", scope="subset"),
        ev("national", "2021-01-01"),
        ev("elsewhere", "2021-01-01", scope="subset", units=("E", "F")),
        ev("national_near", "2020-08-01"),
    ])
    res = cal.check(T, outcome="emergency_admissions", treated_units=treated,
                    comparison_units=comparison)
    tab = res.table.set_index("event_id")
    assert tab.at["only_treated", "differential"] is True
    assert tab.at["only_treated", "severity"] == "high"
    assert "2 of 2 treated units, 0 of 2 comparison units" in tab.at["only_treated", "reason"]
    assert tab.at["half_each", "differential"] is False and tab.at["half_each", "severity"] == "low"
    assert tab.at["national", "differential"] is False and tab.at["national", "severity"] == "low"
    assert tab.at["national_near", "severity"] == "medium"
    assert tab.at["unlisted_subset", "differential"] is None
    assert tab.at["unlisted_subset", "severity"] == "medium"
    assert "elsewhere" not in tab.index  # hits no evaluated unit
    assert res.passed is False
    # no comparison group: differential is None and single-series rules apply
    alone = cal.check(T, outcome="emergency_admissions", treated_units=treated)
    alone = alone.table.set_index("event_id")
    assert alone["differential"].isna().all()
    assert alone.at["national", "severity"] == "medium"
    # units in another code system: overlap unknown, not silently dropped
    other = cal.check(T, outcome="emergency_admissions", treated_units=["x1"],
                      comparison_units=["x2"]).table.set_index("event_id")
    assert other.at["only_treated", "differential"] is None
    # one unit in both groups is refused
    with pytest.raises(SpecificationError, match="both treated and comparison"):
        cal.check(T, outcome="emergency_admissions", treated_units=treated, comparison_units=["B"])


def test_staggered_per_unit_dates():
    dates = {"A": "2020-01-01", "B": "2021-01-01"}
    cal = PolicyCalendar([
        ev("national_b", "2021-02-01"),                          # B + 1
        ev("hits_a", "2020-09-01", scope="subset", units=("A",)),  # A + 8, B - 4
        ev("last_in", "2021-06-15"), ev("first_out", "2021-07-01"),
        ev("first_in", "2019-07-01"), ev("last_out", "2019-06-30"),
    ])
    res = cal.check(dates, outcome="emergency_admissions", pre=6, post=6, co_timed=3)
    tab = res.table.set_index("event_id")
    # window 2019-07 (2020-01 - 6) to 2021-06 (2021-01 + 6 - 1)
    assert {"last_in", "first_in"} <= set(tab.index)
    assert not {"first_out", "last_out"} & set(tab.index)
    assert tab.at["national_b", "overlap"] == "co_timed"
    assert "2021-01 cohort" in tab.at["national_b", "reason"]
    assert tab.at["national_b", "differential"] is False  # cohorts compared with each other
    assert tab.at["national_b", "severity"] == "medium"
    assert tab.at["hits_a", "overlap"] == "post_window"
    assert tab.at["hits_a", "differential"] is True and tab.at["hits_a", "severity"] == "high"
    with pytest.raises(SpecificationError, match="treated_units must match"):
        cal.check(dates, outcome="emergency_admissions", treated_units=["A", "C"])
    with pytest.raises(TimeParseError, match="'B'"):
        cal.check({"A": "2020-01-01", "B": "not a date"}, outcome="emergency_admissions")


def test_ics_waves_window_spans_all_cohorts(default_cal):
    res = default_cal.check("ics_waves", outcome="emergency_admissions", pre=24, post=12)
    tab = res.table.set_index("event_id")
    # window 2015-06 (2017-06 - 24) to 2022-03 (2021-04 + 11): BCF year 1's end (2016-03) is
    # the hand-over to the annual cycles (superseded: no change point), whose start
    # (2016-04) is in the pre-period; the statutory go-live (2022-07) is outside
    assert "bcf_2015_16" not in tab.index
    assert tab.at["bcf_annual_cycle", "overlap"] == "pre_window"
    assert "icb_statutory_go_live" not in tab.index
    assert "stps_formed" in tab.index and "earlier stage" in tab.at["stps_formed", "reason"]
    assert not {e for e in tab.index if e.startswith("ics_wave")}
    # a preset's per-unit dates restricted to some units: wave-6 ICBs only (2021-04 cohort)
    wave6 = load_icbs().query("ics_wave == 'wave6_2021_04'")["icb_ods_code"].tolist()
    sub = default_cal.check("ics_waves", outcome="emergency_admissions", pre=24, post=12,
                            treated_units=wave6)
    assert "2019-04 to 2022-03" in sub.text  # 2021-04 - 24 .. 2021-04 + 11
    with pytest.raises(SpecificationError, match="not units of preset"):
        default_cal.check("ics_waves", outcome="emergency_admissions", treated_units=["XYZ"])


def test_related_events_checked_at_start_only():
    cal = PolicyCalendar([ev("stage1", "2019-01-01", "2020-06-30"), ev("own", "2020-07-01")])
    iv = Intervention(name="custom", date=pd.Timestamp(T), event_ids=("own",),
                      related_event_ids=("stage1",))
    assert cal.check(iv, outcome="emergency_admissions", pre=12).table.empty
    plain = cal.check(T, outcome="emergency_admissions", pre=12).table
    assert set(plain["event_id"]) == {"stage1", "own"}


def test_intervention_forms_agree(rule_cal):
    kw = dict(outcome="emergency_admissions", pre=12, post=12, co_timed=2)
    base = rule_cal.check(T, **kw).table
    for form in (pd.Timestamp(T), pd.Period("2020-07", "M"), "2020-07", {"u1": T}):
        assert rule_cal.check(form, **kw).table["event_id"].tolist() == base["event_id"].tolist()
    with pytest.raises(SpecificationError, match="mapping unit -> date"):
        rule_cal.check(3.5, **kw)


def test_outcome_validation(rule_cal):
    with pytest.raises(SpecificationError, match="widgets") as info:
        rule_cal.check(T, outcome="widgets")
    assert "emergency_admissions" in str(info.value)
    kw = dict(pre=12, post=12, co_timed=2)
    alias = rule_cal.check(T, outcome="admissions", **kw).table
    assert alias.equals(rule_cal.check(T, outcome="emergency_admissions", **kw).table)
    unknown = rule_cal.check(T, outcome=None, **kw)
    # an outcome the calendar does not know: only system-wide shocks and strikes count
    assert set(unknown.table["kind"]) <= {"shock", "workforce"}
    assert "does not know" in unknown.text
    with pytest.raises(SpecificationError, match="design"):
        rule_cal.check(T, outcome="emergency_admissions", design="rdd")
    with pytest.raises(SpecificationError, match="post"):
        rule_cal.check(T, outcome="emergency_admissions", post=0)
