"""The calendar against the December 2026 review (``shared/domain/calendar_review.md``).

Each corrected or added event is checked for its date, phase and source. The expected dates
are those the review cites from primary sources (gov.uk, NHS England, BMJ, NIHR...), typed in
here from the review's tables, not read from evalint.
"""

from __future__ import annotations

import pandas as pd
import pytest

from evalint.calendar import PolicyCalendar

NA = None
# event_id, start, end, phase, end_type, words the source must contain (review's citation)
CORRECTED = [
    ("asc_discharge_fund_2022_23", "2022-12-01", "2023-03-31", "spending", "superseded",
     ["spending period", "first tranche (40%) in December"]),
    ("asc_discharge_fund_2022_allocations", "2022-11-16", NA, "allocated", "", ["16 November 2022"]),
    ("asc_discharge_fund_2022_tranche1", "2022-12-01", NA, "paid", "", ["40%"]),
    ("asc_discharge_fund_2022_tranche2", "2023-01-31", NA, "paid", "", ["9 Jan 2023"]),
    ("asc_discharge_fund_announced", "2022-09-22", NA, "announced", "", ["22 September 2022"]),
    ("covid_omicron", "2021-12-01", "2022-04-30", "in_effect", "ended", ["BMJ 2022;377:o1506"]),
    ("covid_omicron_ba45", "2022-06-01", "2022-07-31", "in_effect", "ended", ["10,658"]),
    ("winter_funding_autumn_statement_2022", "2023-04-01", "2025-03-31", "spending", "superseded",
     ["nhsconfed.org"]),
    ("ics_wave5", "2020-12-01", "2022-06-30", "in_effect", "superseded", ["from 1 April 2021"]),
    ("nctr_sitrep_start", "2020-10-01", NA, "in_effect", "", ["PQ 146569"]),
    ("nctr_publication_start", "2021-12-09", NA, "in_effect", "", ["9 December 2021"]),
    ("jr_doctors_strike_jul2023", "2023-07-13", "2023-07-18", "in_effect", "ended", ["p1448"]),
    ("jr_doctors_strike_dec2023_jan2024", "2023-12-20", "2023-12-23", "in_effect", "ended", ["q361"]),
    ("jr_doctors_strike_jan2024", "2024-01-03", "2024-01-09", "in_effect", "ended", ["q361"]),
    ("rcn_strike_dec2022", "2022-12-15", "2022-12-15", "in_effect", "ended", ["15 and 20 December"]),
    ("rcn_strike_20dec2022", "2022-12-20", "2022-12-20", "in_effect", "ended", ["15 and 20 December"]),
    ("d2a_national_funding_ends", "2022-03-31", NA, "ended", "", ["health.org.uk"]),
]
ADDED = [
    ("discharge_100_day_challenge", "2022-06-23", "2022-09-30", "in_effect", "continues",
     ["transform.england.nhs.uk", "23 June"]),
    ("discharge_challenge_mh_community", "2022-12-06", NA, "in_effect", "", ["6 Dec 2022"]),
    ("discharge_frontrunners", "2023-01-09", NA, "in_effect", "", ["9 Jan 2023"]),
    ("covid_delta", "2021-06-01", "2021-11-30", "in_effect", "ended", ["unverified"]),
    ("covid_autumn_2020", "2020-09-01", "2020-12-31", "in_effect", "ended", ["unverified"]),
    ("nhse_covid_next_steps_letter", "2020-03-17", NA, "announced", "", ["17 Mar 2020"]),
    ("covid_block_contracts", "2020-04-01", "2020-09-30", "in_effect", "superseded", ["HSJ 7027150"]),
    ("mret_abolished", "2019-04-01", NA, "ended", "", ["HSJ 7023543"]),
    ("ucr_2hr_national", "2022-04-01", NA, "in_effect", "", ["urgent-community-response"]),
    ("ambulance_strike_21dec2022", "2022-12-21", "2022-12-21", "in_effect", "ended", ["6 Dec 2022"]),
    ("ambulance_strike_11jan2023", "2023-01-11", "2023-01-11", "in_effect", "ended", ["inews"]),
    ("ambulance_strike_23jan2023", "2023-01-23", "2023-01-23", "in_effect", "ended", ["inews"]),
    ("rcn_strike_jan2023", "2023-01-18", "2023-01-19", "in_effect", "ended", ["The Times 17 Jan 2023"]),
    ("rcn_strike_feb2023", "2023-02-06", "2023-02-07", "in_effect", "ended", ["The Times 6 Feb 2023"]),
    ("jr_doctors_strike_jun2023", "2023-06-14", "2023-06-17", "in_effect", "ended", ["gponline"]),
    ("jr_doctors_strike_feb2024", "2024-02-24", "2024-02-28", "in_effect", "ended", ["q361"]),
    ("resident_doctors_strike_dec2025", "2025-12-17", "2025-12-22", "in_effect", "ended", ["1 Dec 2025"]),
    ("sdec_to_ecds", "2025-07-01", NA, "in_effect", "", ["digital.nhs.uk"]),
    ("ae_4hr_field_test", "2019-05-01", NA, "in_effect", "", ["HSJ 7025304"]),
]


@pytest.fixture(scope="module")
def cal() -> PolicyCalendar:
    return PolicyCalendar.default()


@pytest.mark.parametrize("eid,start,end,phase,end_type,words", CORRECTED + ADDED,
                         ids=[r[0] for r in CORRECTED + ADDED])
def test_event_date_phase_source(cal, eid, start, end, phase, end_type, words):
    e = cal.get(eid)
    assert e.start == pd.Timestamp(start)
    assert (e.end is None) if end is None else e.end == pd.Timestamp(end)
    assert e.phase == phase
    assert e.end_type == end_type
    assert e.source.strip()
    for w in words:
        assert w in e.source, (eid, w)
    assert e.revision  # names the review section it implements


def test_non_events_and_merged_spans_removed(cal):
    assert "discharge_funding_evaluation_nihr" not in cal  # a research call (review 1a#36)
    assert "doctors_strikes_summer_autumn_2023" not in cal  # replaced by one row per strike


@pytest.mark.parametrize("wave", ["ics_wave1_shadow_acs", "ics_wave2", "ics_wave3", "ics_wave4",
                                  "ics_wave5", "ics_wave6_full_coverage"])
def test_ics_waves_are_superseded_not_ended(cal, wave):
    e = cal.get(wave)
    assert e.end == pd.Timestamp("2022-06-30") and e.end_type == "superseded"
    assert not e.end_is_change


def test_target_dates_and_continued_services_are_not_ends(cal):
    assert cal.get("elective_recovery_plan").end_type == "target"
    assert cal.get("uec_recovery_plan").end_type == "target"
    assert cal.get("virtual_wards_rollout").end_type == "continues"
    assert cal.get("ics_wave5").alt_start == pd.Timestamp("2021-04-01")


def test_data_definition_changes_are_scoped(cal):
    assert cal.get("dtoc_collection_suspended").collections == ("dtoc",)
    assert cal.get("discharge_sitrep_spec_2022").collections == ("discharge_sitrep",)
    assert "national" not in cal.get("icb_geography_switch").geo_levels
    assert set(cal.get("icb_geography_switch").geo_levels) == {"icb", "ccg", "sub_icb"}


def test_discharge_fund_phases_are_one_policy(cal):
    rows = cal.policy_events("asc_discharge_fund_2022")
    assert [e.phase for e in rows] == ["announced", "allocated", "spending", "paid", "spending",
                                       "paid"]
    # in date order: 22 Sep, 16 Nov, 1 Dec (spending, tranche 1), 9 Jan (bed fund), 31 Jan
    assert [str(e.start.date()) for e in rows] == [
        "2022-09-22", "2022-11-16", "2022-12-01", "2022-12-01", "2023-01-09", "2023-01-31"]


# --------------------------------------------------------------------------------- intensity
def test_shipped_bcf_intensity_matches_the_source_file():
    """Gloucestershire ICB (QR1) is one county HWB (E10000013): its intensity is that HWB's
    BCF 2022-23 bed-based intermediate care + reablement spend per 18+ resident, read here
    from the published row: (1,741,144 + 7,246,000) / 519,401 = 17.30, computed below with plain
    pandas from BCF.csv, not through evalint."""
    from evalint.calendar.intensity import builtin_intensity, realdata_dir

    folder = realdata_dir()
    if folder is None:
        pytest.skip("shared/realdata not found beside the checkout (set EVALINT_REALDATA_DIR)")
    raw = pd.read_csv(folder / "bcf_2022_23_intermediate_care_la" / "BCF.csv")
    row = raw.set_index("Code").loc["E10000013"]
    expected = (row["Bed based intermediate Care Services"]
                + row["Reablement in a persons own home"]) / row["value"]
    table = builtin_intensity("bcf_intermediate_care_2022_23")
    assert table.values["QR1"] == pytest.approx(expected, rel=1e-12)
    assert len(table.values) == 39 and table.area_type == "icb"
    assert expected == pytest.approx((1_741_144 + 7_246_000) / 519_401)
    # the file's own Total row is the sum of the HWB rows (£0.624bn bed-based; SOURCE.md's
    # £1.248bn adds the Total row to itself); the HWB rows evalint reads are complete
    hwb = raw.loc[raw["Code"].str.startswith("E", na=False)]
    total = raw.set_index("Code").loc["Total"]
    assert hwb["Bed based intermediate Care Services"].sum() == pytest.approx(
        total["Bed based intermediate Care Services"], rel=1e-9)
    cal = PolicyCalendar.default()
    assert cal.intensity_table("asc_discharge_fund_2022_23").name == "bcf_intermediate_care_2022_23"


def test_intensity_absent_without_real_data(monkeypatch, tmp_path):
    from evalint.calendar.intensity import builtin_intensity

    monkeypatch.setenv("EVALINT_REALDATA_DIR", str(tmp_path))
    assert builtin_intensity("bcf_intermediate_care_2022_23") is None
    from evalint.errors import SpecificationError

    with pytest.raises(SpecificationError, match="not shipped"):
        builtin_intensity("allocations_2031")
