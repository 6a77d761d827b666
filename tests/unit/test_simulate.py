"""Simulated NHS panels: calibration against published magnitudes, the truth in closed form,
the noise model's moments, determinism, and errors.

Calibration targets are the published figures quoted in shared/domain/magnitudes.md:
535,226 emergency admissions in April 2019 and -39% in April 2020 (NHS England A&E statistics);
2022 emergency admissions 9% below 2019, emergency LOS 7.9 days (2019) and 9.1 (2022) (Health
Foundation); delayed patients 4,155-6,660 a day under DTOC (2016-2020) and 12,000-14,400 NCtR in
winter 2022/23 (Health Foundation; DHSC rapid evaluation).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalint.geography.icbs import load_icbs
from evalint.data import Panel
from evalint.datasets._simulated import SimulatedPanel
from evalint.datasets.simulate import OUTCOMES, simulate_nhs, simulate_series
from evalint.errors import EvalintError, EvalintWarning, SpecificationError


@pytest.fixture(scope="module")
def default_sim() -> SimulatedPanel:
    return simulate_nhs(seed=1)


def _national(sp: SimulatedPanel) -> pd.DataFrame:
    d = sp.data
    nat = d.groupby("month")[["emergency_admissions", "delayed_discharges", "population", "spells"]].sum()
    los_days = (d["length_of_stay"] * d["spells"]).groupby(d["month"]).sum()
    nat["length_of_stay"] = los_days / nat["spells"]
    return nat


# ---------------------------------------------------------------- shape and validation
def test_default_panel_shape_and_kinds(default_sim: SimulatedPanel) -> None:
    panel = default_sim.panel
    assert isinstance(panel, Panel)
    assert panel.n_units == 42 and panel.n_periods == 108
    assert str(panel.periods[0]) == "2016-04" and str(panel.periods[-1]) == "2025-03"
    assert panel.is_balanced
    assert panel.unit == "icb_code" and panel.time == "month"
    assert panel.outcomes == OUTCOMES
    assert {o: panel.outcome_kinds[o].name for o in OUTCOMES} == {o: o for o in OUTCOMES}
    assert panel.population == "population" and panel.weights == "spells"
    assert panel.timing is None
    icbs = load_icbs()
    data = default_sim.data
    assert set(data["icb_code"]) == set(icbs["icb_ods_code"])
    names = data.drop_duplicates("icb_code").set_index("icb_code")["icb_name"]
    assert (names[icbs["icb_ods_code"]].to_numpy() == icbs["icb_name"].to_numpy()).all()
    regions = data.drop_duplicates("icb_code").set_index("icb_code")["region"]
    assert (regions[icbs["icb_ods_code"]].to_numpy() == icbs["nhs_region"].to_numpy()).all()
    assert (data["spells"] == data["emergency_admissions"]).all()
    assert len(default_sim.truth) == 3 * 42 * 108


def test_same_seed_identical_different_seed_different() -> None:
    a, b, c = simulate_nhs(seed=7), simulate_nhs(seed=7), simulate_nhs(seed=8)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not a.data["emergency_admissions"].equals(c.data["emergency_admissions"])
    assert not np.allclose(a.data["length_of_stay"], c.data["length_of_stay"])
    s1, s2 = simulate_series(seed=3), simulate_series(seed=3)
    pd.testing.assert_frame_equal(s1.data, s2.data)


# ---------------------------------------------------------------- calibration (published magnitudes)
def test_population_scale() -> None:
    sp = simulate_nhs(seed=0, noise="none")
    pop = sp.data.loc[sp.data["month"] == pd.Period("2019-07", "M")].set_index("icb_code")["population"]
    assert 56.0e6 <= pop.sum() <= 57.5e6           # England ~56-57m
    assert pop.min() >= 500_000 and pop.max() <= 3_200_000  # King's Fund: ~0.5m to ~3m
    assert pop["QOC"] == 519_648                     # Shropshire, Telford and Wrekin (named source)
    assert (pop < 1_000_000).sum() >= 6              # "six ICBs <1m"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_emergency_admissions_scale_and_covid_drop(seed: int) -> None:
    nat = _national(simulate_nhs(seed=seed))
    fy1819 = nat.loc["2018-04":"2019-03", "emergency_admissions"]
    assert fy1819.between(480_000, 600_000).all()
    assert abs(nat.loc["2019-04", "emergency_admissions"] - 535_226) / 535_226 < 0.02
    drop = nat.loc["2020-04", "emergency_admissions"] / nat.loc["2019-04", "emergency_admissions"] - 1
    assert -0.42 <= drop <= -0.36                    # reported -39%
    y = nat["emergency_admissions"].groupby(nat.index.year).sum()
    assert -0.11 <= y[2022] / y[2019] - 1 <= -0.07  # reported -9%
    rate = nat.loc["2018-04":"2019-03", "emergency_admissions"] / nat.loc["2018-04":"2019-03", "population"]
    assert (rate * 1000).between(8.5, 10.5).all()    # 535k / 56.5m = 9.5 per 1,000 per month


def test_no_covid_means_no_drop() -> None:
    nat = _national(simulate_nhs(seed=0, covid=False))
    change = nat.loc["2020-04", "emergency_admissions"] / nat.loc["2019-04", "emergency_admissions"] - 1
    assert -0.02 < change < 0.06


@pytest.mark.parametrize("seed", [0, 1])
def test_delayed_discharges_scale(seed: int) -> None:
    nat = _national(simulate_nhs(seed=seed))
    winter = nat.loc["2022-12":"2023-02", "delayed_discharges"].mean()
    assert 12_000 <= winter <= 14_500                # NCtR >13,000 Dec 2022, peak 14,385 Jan 2023
    pre = nat.loc["2016-04":"2020-02", "delayed_discharges"]
    assert pre.between(4_000, 6_700).all()           # DTOC 4,155 (Dec 2018) to 6,660 (Feb 2017)
    summer = nat.loc["2023-06", "delayed_discharges"]
    assert 11_000 <= summer <= 13_000                # 12,200 w/e 30 Jun 2023
    assert winter / summer > 1.08                    # winter excess (~18% peak vs June)


def test_length_of_stay_scale(default_sim: SimulatedPanel) -> None:
    nat = _national(default_sim)
    los = nat["length_of_stay"].groupby(nat.index.year).mean()
    assert abs(los[2019] - 7.9) < 0.2 and abs(los[2022] - 9.1) < 0.2
    assert 7.5 <= default_sim.data["length_of_stay"].mean() <= 9.5
    assert (default_sim.data["length_of_stay"] > 0).all()


def test_winter_peaks_in_admissions() -> None:
    nat = _national(simulate_nhs(seed=0, covid=False, days_in_month=False, noise="none"))
    by_month = nat["emergency_admissions"].groupby(nat.index.month).mean()
    assert by_month.idxmax() == 1 and by_month.idxmin() == 7
    assert 0.08 <= by_month.max() / by_month.min() - 1 <= 0.16  # +-5% amplitude


# ---------------------------------------------------------------- the truth
def test_truth_closed_form_for_counts_and_los() -> None:
    sp = simulate_nhs(seed=0, adoption="ics_waves",
                      effects={"emergency_admissions": -0.05, "length_of_stay": -0.3,
                               "delayed_discharges": {"level": -0.10, "ramp": 6}})
    t = sp.truth
    tr = t["treated"] == 1
    adm = t[(t["outcome"] == "emergency_admissions") & tr]
    np.testing.assert_allclose(adm["expected_with"] / adm["expected_without"] - 1, -0.05, rtol=1e-12)
    los = t[(t["outcome"] == "length_of_stay") & tr]
    np.testing.assert_allclose(los["effect"], -0.3, rtol=1e-12)
    dd = t[(t["outcome"] == "delayed_discharges") & tr]
    expected_rel = -0.10 * np.minimum(1.0, (dd["rel_time"] + 1) / 6)
    np.testing.assert_allclose(dd["expected_with"] / dd["expected_without"] - 1, expected_rel, rtol=1e-12)
    assert (t.loc[~tr, "effect"] == 0).all()
    assert (t.loc[~tr, "expected_with"] == t.loc[~tr, "expected_without"]).all()
    att = sp.att("emergency_admissions")
    assert att.loc[0, "att_relative"] == pytest.approx(-0.05, abs=1e-12)
    assert att.loc[0, "att"] == pytest.approx(adm["effect"].mean())
    assert sp.att("los").loc[0, "att"] == pytest.approx(-0.3)
    dyn = sp.att("delayed_discharges", by="rel_time").set_index("rel_time")
    assert dyn.loc[0, "mean_relative"] == pytest.approx(-0.10 / 6)
    assert dyn.loc[5, "mean_relative"] == pytest.approx(-0.10)
    assert dyn.loc[40, "att_relative"] == pytest.approx(-0.10)


def test_noise_none_returns_the_expected_values() -> None:
    sp = simulate_nhs(seed=0, noise="none", adoption={"QHG": "2019-04"},
                      effects={"emergency_admissions": -0.05})
    for o in OUTCOMES:
        exp = sp.truth.loc[sp.truth["outcome"] == o, "expected_with"].to_numpy()
        np.testing.assert_allclose(sp.data[o].to_numpy(), exp, rtol=1e-12)


def test_shocks_are_confounders_not_effects() -> None:
    common = dict(seed=0, adoption={"QHG": "2022-06", "QUE": "2022-06"},
                  effects={"delayed_discharges": -0.05}, noise="none")
    shock = {"start": "2022-11", "end": "2023-03", "outcome": "delayed_discharges", "effect": -0.08,
             "units": ["QHG", "QM7"]}
    plain, shocked = simulate_nhs(**common), simulate_nhs(**common, shocks=[shock])
    a, b = plain.truth, shocked.truth
    ratio = b["expected_without"] / a["expected_without"]
    hit = ((b["outcome"] == "delayed_discharges") & b["unit"].isin(["QHG", "QM7"])
           & (b["month"] >= pd.Period("2022-11", "M")) & (b["month"] <= pd.Period("2023-03", "M")))
    np.testing.assert_allclose(ratio[hit], 0.92, rtol=1e-12)
    np.testing.assert_allclose(ratio[~hit], 1.0, rtol=1e-12)
    np.testing.assert_allclose(b["effect_relative"], a["effect_relative"], atol=1e-15)
    assert shocked.att("delayed_discharges").loc[0, "att_relative"] == pytest.approx(-0.05)


def test_shock_by_region_and_effect_mapping() -> None:
    sp = simulate_nhs(seed=0, noise="none", shocks=[{"start": "2018-01", "end": "2018-01",
                                                      "regions": "London",
                                                      "effect": {"los": 0.5, "admissions": 0.1}}])
    base = simulate_nhs(seed=0, noise="none")
    diff = sp.truth["expected_without"] - base.truth["expected_without"]
    london = sp.truth["unit"].isin(sp.data.loc[sp.data["region"] == "London", "icb_code"].unique())
    jan18 = sp.truth["month"] == pd.Period("2018-01", "M")
    los = sp.truth["outcome"] == "length_of_stay"
    np.testing.assert_allclose(diff[london & jan18 & los], 0.5)
    assert (diff[~(london & jan18)] == 0).all()
    assert (diff[london & jan18 & (sp.truth["outcome"] == "delayed_discharges")] == 0).all()


def test_ics_waves_cohorts_come_from_the_icb_table() -> None:
    sp = simulate_nhs(seed=0, adoption="ics_waves")
    icbs = load_icbs().set_index("icb_ods_code")
    expected = icbs["ics_designation_date"].dt.to_period("M")
    cohort = sp.panel.timing.cohort
    assert len(cohort) == 42 and cohort.notna().all()
    for code, month in cohort.items():
        assert month == expected[code]
    assert sorted(str(c) for c in sp.panel.timing.cohorts) == sorted(expected.astype(str).unique())
    golive = simulate_nhs(seed=0, adoption="ics_golive_2022")
    assert set(golive.panel.timing.cohort.astype(str)) == {"2022-07"}


def test_adoption_mapping_tuple_and_never_treated() -> None:
    sp = simulate_nhs(seed=0, adoption=(["QHG", "QUE"], "2019-04-01"))
    timing = sp.panel.timing
    assert set(timing.treated_units) == {"QHG", "QUE"} and len(timing.never_treated) == 40
    treated_rows = sp.data.loc[sp.data["treated"] == 1]
    assert set(treated_rows["icb_code"]) == {"QHG", "QUE"}
    assert treated_rows["month"].min() == pd.Period("2019-04", "M")
    with pytest.warns(EvalintWarning, match="never treated"):
        late = simulate_nhs(seed=0, adoption="ics_waves", end="2020-06")
    assert len(late.panel.timing.never_treated) == 24  # designated Dec 2020 or April 2021


def test_heterogeneous_and_dynamic_effects() -> None:
    sp = simulate_nhs(seed=0, adoption="ics_waves", noise="none", effects={
        "emergency_admissions": {"level": -0.02, "by_cohort": {"2017-06": -0.06}},
        "delayed_discharges": {"path": [0.0, -0.05, -0.10]},
        "length_of_stay": lambda rel, cohort, unit: -0.1 * np.minimum(rel, 10) / 10,
    })
    by_cohort = sp.att("emergency_admissions", by="cohort").set_index("cohort")
    assert by_cohort.loc[pd.Period("2017-06", "M"), "att_relative"] == pytest.approx(-0.06)
    assert by_cohort.loc[pd.Period("2021-04", "M"), "att_relative"] == pytest.approx(-0.02)
    dyn = sp.att("delayed_discharges", by="rel_time").set_index("rel_time")["mean_relative"]
    assert dyn[0] == pytest.approx(0.0) and dyn[1] == pytest.approx(-0.05) and dyn[30] == pytest.approx(-0.10)
    los = sp.att("length_of_stay", by="rel_time").set_index("rel_time")["att"]
    assert los[5] == pytest.approx(-0.05) and los[20] == pytest.approx(-0.1)
    cal = sp.att("length_of_stay", by="month")
    assert len(cal) == len(pd.period_range("2017-06", "2025-03", freq="M"))


# ---------------------------------------------------------------- the noise model
def test_poisson_noise_has_unit_pearson_variance() -> None:
    sp = simulate_nhs(seed=11, noise="poisson")
    t = sp.truth[sp.truth["outcome"] == "emergency_admissions"]
    z = ((sp.data["emergency_admissions"].to_numpy() - t["expected_with"].to_numpy())
         / np.sqrt(t["expected_with"].to_numpy()))
    assert abs(z.mean()) < 0.05 and 0.92 < z.var() < 1.08  # 4,536 cells: SE of var ~0.02


def test_negative_binomial_noise_matches_nb2_variance() -> None:
    sp = simulate_nhs(seed=12, noise="negative_binomial",
                      dispersion={"admissions": 0.0009, "delayed_discharges": 0.004})
    for o, alpha in (("emergency_admissions", 0.0009), ("delayed_discharges", 0.004)):
        mu = sp.truth.loc[sp.truth["outcome"] == o, "expected_with"].to_numpy()
        z = (sp.data[o].to_numpy() - mu) / np.sqrt(mu + alpha * mu**2)
        assert abs(z.mean()) < 0.05 and 0.92 < z.var() < 1.08
        poisson_z = (sp.data[o].to_numpy() - mu) / np.sqrt(mu)
        assert poisson_z.var() > 1.5  # clearly overdispersed relative to Poisson


def test_los_noise_is_ar1_with_the_set_sd_and_rho() -> None:
    sp = simulate_nhs(seed=13, ar=0.5, los_sd=0.2)
    m = sp.truth.loc[sp.truth["outcome"] == "length_of_stay", "expected_with"].to_numpy()
    e = (sp.data["length_of_stay"].to_numpy() - m).reshape(42, 108)
    assert abs(e.std() - 0.2) < 0.01
    rho = np.sum(e[:, 1:] * e[:, :-1]) / np.sum(e[:, :-1] ** 2)
    assert abs(rho - 0.5) < 0.05


def test_twfe_on_log_rates_recovers_the_set_effect() -> None:
    """Parallel trends hold on the log scale: TWFE on log(admissions / population) with unit
    and month effects estimates log(1 + level) (with COVID on, which month effects absorb)."""
    codes = sorted(load_icbs()["icb_ods_code"])[:21]
    sp = simulate_nhs(seed=5, adoption=(codes, "2019-04"), effects={"emergency_admissions": -0.05})
    d = sp.panel.data
    y = np.log(d["emergency_admissions"] / d["population"]).to_numpy()
    unit_d = pd.get_dummies(d["icb_code"], drop_first=True, dtype=float).to_numpy()
    time_d = pd.get_dummies(d["month"].astype(str), drop_first=True, dtype=float).to_numpy()
    treat = d["icb_code"].isin(codes).to_numpy() & (d["month"] >= pd.Period("2019-04", "M")).to_numpy()
    X = np.column_stack([np.ones(len(d)), treat.astype(float), unit_d, time_d])
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    assert abs(beta[1] - np.log(0.95)) < 0.006  # sampling SE ~0.001 with NB noise


def test_poisson_its_is_correctly_specified_on_simulate_series() -> None:
    """Documented claim: with covid=False, a Poisson segmented regression with a trend, one
    harmonic and offset log(population * days) is the true model; its 95% CI covers the true
    log rate ratio about 95% of the time (60 replications here; more under -m slow)."""
    sm = pytest.importorskip("statsmodels.api")
    covered, estimates = _its_coverage(sm, reps=60)
    assert abs(np.mean(estimates) - np.log(0.95)) < 0.002
    assert np.mean(covered) >= 0.85


@pytest.mark.slow
def test_poisson_its_coverage_large() -> None:
    sm = pytest.importorskip("statsmodels.api")
    covered, estimates = _its_coverage(sm, reps=1000)
    assert 0.93 <= np.mean(covered) <= 0.97  # 1000 reps: MC SE 0.7 points
    assert abs(np.mean(estimates) - np.log(0.95)) < 0.0005


def _its_coverage(sm, reps: int) -> tuple[list[bool], list[float]]:
    covered, estimates = [], []
    for rep in range(reps):
        d = simulate_series(seed=rep, intervention="2020-01", covid=False, noise="poisson",
                            effects={"emergency_admissions": -0.05}).data
        months = d["month"].dt.month.to_numpy()
        X = np.column_stack([np.ones(len(d)), np.arange(len(d)), np.cos(2 * np.pi * months / 12),
                             np.sin(2 * np.pi * months / 12), d["treated"].to_numpy()])
        offset = np.log(d["population"].to_numpy() * d["days_in_month"].to_numpy())
        fit = sm.GLM(d["emergency_admissions"].to_numpy(), X, family=sm.families.Poisson(),
                     offset=offset).fit()
        lo, hi = fit.conf_int()[4]
        covered.append(lo <= np.log(0.95) <= hi)
        estimates.append(fit.params[4])
    return covered, estimates


# ---------------------------------------------------------------- the national series
def test_simulate_series_is_a_one_unit_national_panel() -> None:
    sp = simulate_series(seed=0, intervention="2021-04", effects={"admissions": -0.03})
    assert sp.panel.n_units == 1 and sp.panel.unit == "area"
    assert list(sp.panel.units) == ["ENG"]
    assert str(sp.panel.timing.cohort["ENG"]) == "2021-04"
    apr19 = sp.data.set_index("month").loc[pd.Period("2019-04", "M"), "emergency_admissions"]
    assert abs(apr19 - 535_226) / 535_226 < 0.05
    assert sp.att("emergency_admissions").loc[0, "att_relative"] == pytest.approx(-0.03)
    small = simulate_series(seed=0, population=1_000_000, covid=False)
    assert small.data["emergency_admissions"].mean() < 15_000


def test_units_subset() -> None:
    sp = simulate_nhs(seed=0, units=["QHG", "QUE", "QM7"], adoption={"QHG": "2020-01"})
    assert sp.panel.n_units == 3 and len(sp.panel.timing.never_treated) == 2


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, match", [
    (dict(effects={"emergency_admissions": -0.05}), "needs adoption"),
    (dict(adoption={"XXX": "2019-04"}), "not simulated"),
    (dict(adoption={"QHG": "2016-04"}), "no untreated period"),
    (dict(adoption="waves"), "not a preset"),
    (dict(adoption={"QHG": "2019-04"}, effects={"emergency_admissions": -1.2}), "> -1"),
    (dict(adoption={"QHG": "2019-04"}, effects={"mortality": 0.1}), "not a simulated outcome"),
    (dict(adoption={"QHG": "2019-04"}, effects={"length_of_stay": {"lvl": 1}}), "unknown key"),
    (dict(adoption={"QHG": "2019-04"}, effects={"length_of_stay": {"level": 1, "ramp": -2}}), "ramp"),
    (dict(adoption={"QHG": "2019-04"}, effects={"length_of_stay": "big"}), "finite number"),
    (dict(shocks=[{"start": "2020-01", "effect": 0.1, "when": 1}]), "unknown key"),
    (dict(shocks=[{"start": "2020-01"}]), "needs 'start'"),
    (dict(shocks=[{"start": "2020-01", "effect": 0.1, "regions": "Wales"}]), "unknown region"),
    (dict(noise="gaussian"), "noise"),
    (dict(seed=-1), "seed"),
    (dict(seed=1.5), "seed"),
    (dict(ar=1.0), "stationary"),
    (dict(start="2020-01", end="2019-01"), "after start"),
    (dict(start="not a date"), "not a date"),
    (dict(units=["QHG", "ZZZ"]), "ZZZ"),
    (dict(trend={"emergency_admissions": "up"}), "finite number"),
])
def test_bad_arguments_raise_specification_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(SpecificationError, match=match):
        simulate_nhs(**kwargs)


def test_att_errors() -> None:
    sp = simulate_nhs(seed=0)
    with pytest.raises(SpecificationError, match="no treated cells"):
        sp.att("emergency_admissions")
    sp2 = simulate_nhs(seed=0, adoption={"QHG": "2019-04"})
    with pytest.raises(SpecificationError, match="by="):
        sp2.att("emergency_admissions", by="unit")  # type: ignore[arg-type]
    with pytest.raises(EvalintError):
        sp2.att("mortality")


def test_callable_effect_errors_are_explained() -> None:
    with pytest.raises(SpecificationError, match=r"f\(rel_time, cohort, unit\)"):
        simulate_nhs(adoption={"QHG": "2019-04"}, effects={"length_of_stay": lambda rel: rel})
    with pytest.raises(SpecificationError, match="finite values"):
        simulate_nhs(adoption={"QHG": "2019-04"},
                     effects={"length_of_stay": lambda rel, cohort, unit: np.array([1.0])})


def test_no_warnings_on_the_default_paths() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        simulate_nhs(seed=0, adoption="ics_waves", effects={"emergency_admissions": -0.05})
        simulate_series(seed=0, intervention="2020-06")
