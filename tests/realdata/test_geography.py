"""evalint.geography on the real lookups (shared/realdata): ICB table, trust attribution,
successions, area lookups and population denominators.

Asserted numbers are outside facts: the ONS-derived ICB code file, ONS mid-year England totals
(55,619,430 in 2017; 56,286,961 in 2019; 56,550,138 in 2020; 65+ 10,353,716 in 2019, per
population_icb_ltla/SOURCE.md), OHID catchment sums read from the file, and organisation
histories (University Hospitals Dorset R0D formed 1 October 2020 from RDZ and RD3; Pennine Acute
RW6 split into Northern Care Alliance RM3 and Manchester University R0A in October 2021).
"""

from __future__ import annotations

import pandas as pd
import pytest

import evalint.geography as geo
from evalint.errors import ColumnNotFoundError, EvalintError, SpecificationError


# ---------------------------------------------------------------- no real files needed
def test_icb_table_has_42_icbs_with_both_codes():
    table = geo.icb_table()
    assert len(table) == 42
    assert table["icb22_code"].str.match(r"^E54\d{6}$").all()
    assert table["icb22_code_h"].str.match(r"^Q[A-Z0-9]{2}$").all()
    assert geo.to_icb_code("QOP") == geo.to_icb_code("e54000057") == "E54000057"
    assert geo.icb_name("QOP") == "NHS Greater Manchester Integrated Care Board"


def test_calendar_still_serves_the_icb_table():
    from evalint.calendar import load_icbs

    assert load_icbs()["icb_ons_code"].tolist() == geo.load_icbs()["icb_ons_code"].tolist()


def test_unknown_icb_code_is_named():
    with pytest.raises(geo.UnknownCodeError, match="E38000006"):
        geo.to_icb_code(["QOP", "E38000006"])


@pytest.mark.parametrize("vintage", ["2026", "2019", 2023])
def test_unsupported_vintage_is_a_specification_error(vintage):
    with pytest.raises(geo.UnsupportedVintageError, match="not supported") as info:
        geo.icb_table(vintage)
    assert isinstance(info.value, SpecificationError)
    assert "2026" in str(info.value)  # says what happens to the April 2026 mergers


def test_bad_weight_basis_is_rejected():
    with pytest.raises(EvalintError, match="weights"):
        geo.trust_icb_weights("residence")


# ---------------------------------------------------------------- on the real lookups
pytestmark_real = pytest.mark.realdata


@pytestmark_real
def test_icb_table_matches_the_ons_july_2022_code_file(realdata_root):
    ons = pd.read_csv(realdata_root / "lookups_trust_icb_la" / "icb22_codes.csv")
    ours = geo.icb_table()
    merged = ours.merge(ons, on="icb22_code", suffixes=("", "_ons"), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["icb22_code_h"] == merged["icb22_code_h_ons"]).all()
    assert (merged["icb22_name"] == merged["icb22_name_ons"]).all()


@pytestmark_real
@pytest.mark.parametrize("basis", geo.WEIGHT_BASES)
def test_weights_sum_to_one_per_trust_and_land_on_the_42_icbs(realdata_root, basis):
    w = geo.trust_icb_weights(basis, source_dir=realdata_root)
    assert (w.groupby("trust")["weight"].sum() - 1).abs().max() < 1e-12
    assert set(w["icb22_code"]) <= set(geo.icb_codes())
    assert w["trust"].nunique() == 209  # every trust in the trust -> STP lookup


@pytestmark_real
def test_activity_weights_are_the_nuffield_file(realdata_root):
    raw = pd.read_csv(realdata_root / "lookups_trust_icb_la" / "nuffield_trust_to_icb_type1_weights.csv")
    w = geo.trust_icb_weights("activity")
    act = w[w["basis"] == "activity"]
    assert len(act) == len(raw) == 212 and act["trust"].nunique() == 124
    got = act.set_index(["trust", "icb22_code"])["weight"]
    want = raw.set_index(["Trust_code", "ICS_code1"])["Weighting"]
    assert (got.reindex(want.index) - want).abs().max() < 1e-12
    # SOURCE.md example: Manchester University -> Greater Manchester, weight 1
    assert geo.trust_main_icb("R0A").iloc[0] == "E54000057"
    assert geo.trust_main_icb(["R0A"], basis="host").iloc[0] == "E54000057"


@pytestmark_real
def test_unknown_trust_is_named_with_the_fix():
    with pytest.raises(geo.UnknownCodeError, match="RDZ.*harmonise_trust_codes"):
        geo.trust_main_icb(["RDZ"])


@pytestmark_real
def test_successions_follow_ods_records():
    assert geo.trust_successors("RDZ") == ["R0D"]
    assert geo.trust_successors("RD3") == ["R0D"]
    assert geo.trust_successors("R0D") == ["R0D"]
    assert geo.trust_successors("RM2") == ["R0A"]  # UHSM -> Manchester University, 2017
    assert geo.trust_successors("RDZ", as_of="2020-09-30") == ["RDZ"]
    assert sorted(geo.trust_successors("RW6")) == ["R0A", "RM3"]


@pytestmark_real
def test_harmonise_merges_predecessors_and_refuses_unsettled_splits():
    frame = pd.DataFrame({
        "trust": ["RDZ", "RD3", "R0D", "RW6", "rdz"],
        "month": ["2020-09", "2020-09", "2020-10", "2021-09", "2020-08"],
        "admissions": [10.0, 5.0, 14.0, 7.0, 3.0],
    })
    before = frame.copy()
    with pytest.raises(geo.AmbiguousSuccessionError, match="RW6 -> .*splits="):
        geo.harmonise_trust_codes(frame, "trust")
    out = geo.harmonise_trust_codes(frame, "trust", time="month", splits={"RW6": "RM3"})
    pd.testing.assert_frame_equal(frame, before)
    got = out.set_index(["trust", "month"])["admissions"]
    assert got[("R0D", "2020-09")] == 15.0 and got[("R0D", "2020-08")] == 3.0
    assert got[("RM3", "2021-09")] == 7.0
    with pytest.raises(ColumnNotFoundError, match="provider"):
        geo.harmonise_trust_codes(frame, "provider")


@pytestmark_real
def test_ccg_and_ltla_lookups_carry_split_shares(realdata_root):
    ccg = geo.ccg_to_icb()
    assert ccg["ccg21_code"].nunique() == 106
    split = ccg[ccg["split"]]
    assert sorted(split["ccg21_code"].unique()) == ["E38000026", "E38000182", "E38000250"]
    # SOURCE.md: 9, 21 and 92 LSOAs moved
    assert sorted(split.groupby("ccg21_code")["n_lsoa11"].min()) == [9, 21, 92]
    assert (ccg.groupby("ccg21_code")["share"].sum() - 1).abs().max() < 1e-12
    ltla = geo.ltla_to_icb()
    assert ltla["ltla22_code"].nunique() == 309
    assert ltla.loc[ltla["split"], "ltla22_code"].nunique() == 12
    east_suffolk = ltla[ltla["ltla22_name"] == "East Suffolk"]["share"].sort_values().round(2).tolist()
    assert east_suffolk == [0.47, 0.53]
    sub = geo.subicb_to_icb()
    assert len(sub) == 106 and sub["icb22_code"].nunique() == 42


@pytestmark_real
def test_icb_population_reproduces_ons_england_totals_and_the_monthly_rule():
    years = geo.icb_population_years()
    totals = years.groupby("mid_year")["population"].sum()
    assert totals.to_dict() == {2017: 55_619_430, 2019: 56_286_961, 2020: 56_550_138}
    assert geo.icb_population_years("65+").query("mid_year == 2019")["population"].sum() == 10_353_716

    months = pd.period_range("2016-01", "2022-03", freq="M")
    monthly = geo.icb_population(months)
    england = monthly.groupby("month")["population"].sum()
    flags = monthly.groupby("month")["population_extrapolated"].all()
    # flat beyond the last mid-year (mid-2020), flagged
    assert england[pd.Period("2021-04", "M")] == pytest.approx(56_550_138, abs=1e-3)
    assert flags[pd.Period("2021-04", "M")] and flags[pd.Period("2016-01", "M")]
    assert not flags[pd.Period("2018-06", "M")]
    # linear between 30 June 2017 and 30 June 2019, read at the midpoint of June 2018 (16 June 00:00)
    frac = (pd.Timestamp("2018-06-16") - pd.Timestamp("2017-06-30")) / (
        pd.Timestamp("2019-06-30") - pd.Timestamp("2017-06-30"))
    want = 55_619_430 + frac * (56_286_961 - 55_619_430)
    assert england[pd.Period("2018-06", "M")] == pytest.approx(want, rel=1e-12)


@pytestmark_real
def test_add_population_does_not_mutate_and_accepts_ods_codes():
    frame = pd.DataFrame({"icb": ["QOP", "E54000057", "QOP"], "month": ["2019-07", "2019-07", "2021-01"],
                          "admissions": [1.0, 2.0, 3.0]})
    before = frame.copy()
    out = geo.add_population(frame, unit="icb", age="75+")
    pd.testing.assert_frame_equal(frame, before)
    assert out["population"].iloc[0] == out["population"].iloc[1]
    assert out["population_extrapolated"].tolist() == [False, False, True]
    gm = geo.icb_population_years("75+").query("icb22_code == 'E54000057' and mid_year == 2020")
    assert out["population"].iloc[2] == pytest.approx(float(gm["population"].iloc[0]))
    with pytest.raises(geo.UnknownCodeError, match="XYZ"):
        geo.add_population(frame.assign(icb=["XYZ", "QOP", "QOP"]), unit="icb")
    with pytest.raises(ColumnNotFoundError, match="ccg"):
        geo.add_population(frame, unit="ccg")


@pytestmark_real
def test_trust_catchment_population_is_the_ohid_file(realdata_root):
    raw = pd.read_csv(realdata_root / "hf_trust_quarterly_beds_los" / "trust_pop.csv")
    out = geo.trust_catchment_population(["2021-01"])
    want = raw.loc[raw["CatchmentYear"] == 2020, "trust_total_catchment"].sum()
    assert out["population"].sum() == pytest.approx(want)
    assert out["population_extrapolated"].all()
    assert out["trust"].nunique() == raw["TrustCode"].nunique()
    with pytest.raises(geo.UnknownCodeError, match="RDZ"):  # a predecessor code: no catchment
        geo.trust_catchment_population(["2019-07"], trusts=["R0A", "RDZ"])


@pytestmark_real
def test_ltla_populations_apportioned_to_icbs_reproduce_the_ons_icb_populations(realdata_root):
    folder = realdata_root / "population_icb_ltla"
    ltla = pd.read_csv(folder / "ltla22_population_mye_2017_2019_2020.csv")
    icb = pd.read_csv(folder / "icb22_population_mye_2017_2019_2020.csv")
    before = ltla.copy()
    ours = geo.areas_to_icb(ltla, ["total_population", "pop_65plus"], area="ltla22_code",
                            level="ltla22", time="mid_year")
    pd.testing.assert_frame_equal(ltla, before)
    both = ours.merge(icb, on=["icb22_code", "mid_year"], suffixes=("", "_ons"))
    assert len(both) == 126
    ratio = both["total_population"] / both["total_population_ons"]
    # the split shares are 2020 populations: exact in 2020, within 0.1% in 2017 and 2019
    assert (ratio[both["mid_year"] == 2020] - 1).abs().max() < 1e-9
    assert (ratio - 1).abs().max() < 0.001
    assert ours.groupby("mid_year")["total_population"].sum().round().to_dict() == {
        2017: 55_619_430, 2019: 56_286_961, 2020: 56_550_138}
    with pytest.raises(geo.UnknownCodeError, match="E10000029"):
        geo.areas_to_icb(ltla.assign(ltla22_code="E10000029"), "total_population",
                         area="ltla22_code", level="ltla22")


@pytestmark_real
def test_stp_2021_to_icb_2022_splits_four_stps():
    stp = geo.stp_to_icb()
    assert sorted(stp.loc[stp["split"], "stp21_code"].unique()) == [
        "E54000007", "E54000009", "E54000016", "E54000021"]
    assert (stp.groupby("stp21_code")["share"].sum() - 1).abs().max() < 1e-12


@pytestmark_real
def test_add_catchment_population_gives_trust_rates(realdata_root):
    raw = pd.read_csv(realdata_root / "hf_trust_quarterly_beds_los" / "trust_pop.csv")
    frame = pd.DataFrame({"trust": ["R0A", "rjE", "R0A"], "month": ["2019-07", "2022-01", "2022-01"],
                          "admissions": [1.0, 2.0, 3.0]})
    before = frame.copy()
    out = geo.add_catchment_population(frame)
    pd.testing.assert_frame_equal(frame, before)
    r0a_2020 = raw.query("CatchmentYear == 2020 and TrustCode == 'R0A'")["trust_total_catchment"].iloc[0]
    rje_2020 = raw.query("CatchmentYear == 2020 and TrustCode == 'RJE'")["trust_total_catchment"].iloc[0]
    assert out["population"].iloc[1] == pytest.approx(rje_2020)
    assert out["population"].iloc[2] == pytest.approx(r0a_2020)
    assert out["population_extrapolated"].tolist() == [False, True, True]
    with pytest.raises(ColumnNotFoundError, match="provider"):
        geo.add_catchment_population(frame, trust="provider")


@pytestmark_real
def test_upper_tier_authorities_apportioned_to_icbs_reproduce_the_ons_icb_populations(realdata_root):
    # upper-tier authorities (the BCF's Health and Wellbeing Boards): summing the ONS LTLA 2020
    # populations to upper tier and apportioning them with utla_to_icb gives the ONS ICB 2020
    # populations (exact: the shares are 2020 populations), and Kent's ICB is Kent and Medway
    folder = realdata_root / "population_icb_ltla"
    ltla = pd.read_csv(folder / "ltla22_population_mye_2017_2019_2020.csv")
    icb = pd.read_csv(folder / "icb22_population_mye_2017_2019_2020.csv")
    upper = geo.utla_to_icb()
    assert (upper.groupby("utla21_code")["share"].sum() - 1).abs().max() < 1e-12
    assert upper.loc[upper["utla21_code"] == "E10000016", "icb22_code_h"].tolist() == ["QKS"]
    lt = pd.read_csv(realdata_root / "lookups_trust_icb_la" / "lookup_ltla21_utla21.csv")
    y20 = ltla.loc[ltla["mid_year"] == 2020].merge(lt, left_on="ltla22_code", right_on="ltla21_code",
                                                   how="left")
    y20["utla21_code"] = y20["utla21_code"].fillna(y20["ltla22_code"])
    per_utla = y20.groupby("utla21_code", as_index=False)["total_population"].sum()
    ours = geo.areas_to_icb(per_utla, "total_population", area="utla21_code", level="utla21")
    both = ours.merge(icb.loc[icb["mid_year"] == 2020], on="icb22_code", suffixes=("", "_ons"))
    assert len(both) == 42
    assert (both["total_population"] / both["total_population_ons"] - 1).abs().max() < 1e-9
    assert round(ours["total_population"].sum()) == 56_550_138
