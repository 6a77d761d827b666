"""evalint.design.power: MDE of planned DiD designs by simulation on NHS panels.

* Exactness of the shift: multiplying the treated post-period admissions by exp(c) moves the
  TWFE DiD estimate of the log rate by exactly c and leaves its CR2 SE and df unchanged (the
  identity the power curves rest on).
* Power at reduction 0 is the simulated size; the MDE has at least the target power.
* Validation (slow): the rejection rate of the actual estimator on fresh panels with the MDE
  generated in the counts (negative-binomial noise around the reduced mean) is within three
  Monte Carlo SEs of the requested 80% (SE sqrt(0.8 x 0.2 (1/R_null + 1/R_check)): the MDE is
  itself estimated from R_null replications). The full grid is in benchmarks/design_power.py.
* `evalint power CONFIG.toml` writes the tables; configuration errors are typed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evalint
from evalint.cli import main
from evalint.design.power import fit_did, simulate_null
from evalint.errors import SpecificationError


def test_shift_of_treated_cells_moves_estimate_exactly():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        codes = sorted(evalint.simulate_nhs(seed=0, start="2020-01", end="2020-02",
                                            covid=False).data["icb_code"].unique())
        sim = evalint.simulate_nhs(seed=4, start="2020-01", end="2021-12", adoption=(codes[:4], "2021-01"), covid=False)
    data = sim.data
    est0, se0, df0, _ = fit_did(data, "emergency_admissions", 0.05)
    c = -0.07
    shifted = data.assign(emergency_admissions=np.where(data["treated"] == 1, data["emergency_admissions"] * np.exp(c),
                                                        data["emergency_admissions"]))
    est1, se1, df1, _ = fit_did(shifted, "emergency_admissions", 0.05)
    assert est1 - est0 == pytest.approx(c, abs=1e-10)
    assert se1 == pytest.approx(se0, rel=1e-10)
    assert df1 == pytest.approx(df0, rel=1e-10)
    assert data["emergency_admissions"].equals(sim.data["emergency_admissions"])  # input not mutated


def test_power_table_and_curves():
    res = evalint.design.power(n_treated=3, pre=12, post=6, reps=20, seed=1)
    row = res.to_frame().iloc[0]
    assert row["power_at_mde"] >= 0.8
    zero = res.curves.loc[res.curves["reduction"] == 0, "power"].iloc[0]
    assert zero == pytest.approx(row["null_rejection"])
    assert "MDE" in str(res)


@pytest.mark.slow
def test_rejection_rate_at_mde_matches_requested_power():
    r_null, r_check = 150, 150
    res = evalint.design.power(n_treated=3, pre=12, post=6, reps=r_null, seed=11).to_frame().iloc[0]
    check = simulate_null(3, 12, 6, reps=r_check, seed=12, effect=-float(res["mde"]))
    rate = check["rejects"].mean()
    assert abs(rate - 0.8) <= 3 * np.sqrt(0.8 * 0.2 * (1 / r_null + 1 / r_check))


def test_cli_writes_tables(tmp_path, capsys):
    cfg = tmp_path / "plan.toml"
    cfg.write_text('[power]\nn_treated = [3]\npre = 12\npost = [6]\nreps = 20\n\n'
                   '[output]\ntable = "mde.csv"\ncurves = "curves.csv"\n', encoding="utf-8")
    assert main(["power", str(cfg)]) == 0
    table = pd.read_csv(tmp_path / "mde.csv")
    assert table[["n_treated", "pre", "post"]].iloc[0].tolist() == [3, 12, 6]
    assert (tmp_path / "curves.csv").is_file()
    assert "Minimum detectable reduction" in capsys.readouterr().out


def test_errors(tmp_path):
    with pytest.raises(SpecificationError, match="outcome"):
        evalint.design.power(outcome="length_of_stay", reps=20)
    with pytest.raises(SpecificationError, match="power"):
        evalint.design.power(power=0.01, reps=20)
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[power]\nicbs = 3\n", encoding="utf-8")
    from evalint.design.cli import load_power_config

    with pytest.raises(SpecificationError, match="icbs"):
        load_power_config(cfg)


@pytest.mark.parametrize(("key", "value"),
                         [("n_treated", [3.5]), ("pre", 12.5), ("post", [True]), ("n_treated", ["3"])])
def test_counts_that_are_not_whole_numbers_are_refused(key, value):
    """design.power(n_treated=[3.5]) ran as 3 ICBs (int() truncated it); the command line checked
    its config, the library did not. Whole-number floats (3.0) are still counts."""
    kwargs = {"n_treated": [3], "pre": 12, "post": [6], "reps": 20, key: value}
    with pytest.raises(SpecificationError, match=f"{key} must be an integer >= 1"):
        evalint.design.power(**kwargs)


def test_replications_identical_for_any_number_of_workers_and_backend():
    pytest.importorskip("joblib")
    serial = simulate_null(3, 12, 6, reps=4, seed=5)
    two = simulate_null(3, 12, 6, reps=4, seed=5, n_jobs=2)
    threads = simulate_null(3, 12, 6, reps=4, seed=5, n_jobs=2, backend="threading")
    pd.testing.assert_frame_equal(serial, two)
    pd.testing.assert_frame_equal(serial, threads)
    assert serial["estimate"].nunique() == 4  # four different panels, not one repeated


# ITS, SDID and SC designs; placebo assignments on a real panel -----------------------------------

def _frame(seed=3, n_treated=3, months=30, pre=20):
    from evalint.design.fits import add_ar_noise, frame_from_matrix

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = evalint.simulate_nhs(seed=seed, start="2019-01", end=str(pd.Period("2019-01", "M") + months - 1),
                                   covid=False)
    d = sim.data.sort_values(["icb_code", "month"])
    units = pd.unique(d["icb_code"])
    mths = pd.period_range("2019-01", periods=months, freq="M")
    counts = add_ar_noise(d["emergency_admissions"].to_numpy(float).reshape(len(units), months), 0.6, 0.03,
                          np.random.default_rng(seed))
    pop = d["population"].to_numpy(float).reshape(len(units), months)
    return frame_from_matrix(counts, pop, units, mths, units[:n_treated], mths[pre]), mths[pre]


@pytest.mark.parametrize("design", ["its", "sdid", "sc"])
def test_shift_identity_for_its_and_synthetic_designs(design):
    from evalint.design.fits import fit_design

    frame, adopt = _frame()
    est0, se0, df0, _ = fit_design(design, frame, adopt, placebo_reps=30, seed=4)
    c = -0.05
    shifted = frame.assign(count=np.where(frame["treated"] == 1, frame["count"] * np.exp(c), frame["count"]))
    est1, se1, df1, _ = fit_design(design, shifted, adopt, placebo_reps=30, seed=4)
    # exact in theory; the ITS's REML estimate of the AR coefficient is numerical (optimiser tolerance)
    assert est1 - est0 == pytest.approx(c, abs=1e-7)
    assert se1 == pytest.approx(se0, rel=1e-6)
    assert df1 == df0 or df1 == pytest.approx(df0, rel=1e-5)


def test_add_ar_noise_has_the_stated_autocorrelation_and_sd():
    from evalint.design.fits import add_ar_noise

    u = np.log(add_ar_noise(np.ones((400, 300)), 0.6, 0.03, np.random.default_rng(0)))
    assert u.std() == pytest.approx(0.03, rel=0.02)
    r1 = np.mean([np.corrcoef(x[:-1], x[1:])[0, 1] for x in u])
    assert r1 == pytest.approx(0.6, abs=0.02)  # mean lag-1 correlation, 300-month series (bias ~ -(1+3r)/T)


@pytest.mark.parametrize("design", ["its", "sc"])
def test_power_table_for_its_and_sc(design):
    res = evalint.design.power(design=design, n_treated=2, pre=18, post=6, reps=20, seed=1)
    row = res.to_frame().iloc[0]
    assert row["design"] == design and row["power_at_mde"] >= 0.8
    assert "MDE" in str(res)


def _gappy_panel():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = evalint.simulate_nhs(seed=9, start="2019-01", end="2021-12", covid=False)
    d = sim.data[["icb_code", "month", "emergency_admissions", "population"]].copy()
    d.loc[d["month"] == pd.Period("2021-03", "M"), "emergency_admissions"] = np.nan  # every unit misses a month
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evalint.Panel.from_frame(d, unit="icb_code", time="month", outcome="emergency_admissions",
                                        population="population", missing="drop")


def test_real_base_windows_skip_months_with_a_missing_unit_and_effect_is_injected():
    from evalint.design.nulls import RealBase, placebo_design

    base = _gappy_panel()
    rb = RealBase(base)
    assert rb.longest() == 26  # 2019-01 .. 2021-02
    assert list(rb.starts(26)) == [0]
    null = placebo_design(base, "did", 3, 18, 8, reps=6, seed=1)
    assert (null["window_start"] == "2019-01").all()
    eff = placebo_design(base, "did", 3, 18, 8, reps=6, seed=1, effect=-0.1)
    # the same placebo draws with the counts of treated post cells times 0.9: the TWFE estimate moves by log(0.9)
    np.testing.assert_allclose(eff["estimate"] - null["estimate"], np.log(0.9), atol=1e-10)
    with pytest.raises(SpecificationError, match="longest such stretch: 26"):
        placebo_design(base, "did", 3, 20, 8, reps=6)
    with pytest.raises(SpecificationError, match="n_treated"):
        placebo_design(base, "did", 42, 12, 6, reps=6)


def test_power_on_a_base_panel():
    res = evalint.design.power(base=_gappy_panel(), design="did", n_treated=3, pre=12, post=6, reps=20, seed=2)
    row = res.to_frame().iloc[0]
    assert row["power_at_mde"] >= 0.8 and "placebo assignments on the base panel" in str(res)


@pytest.mark.slow
def test_its_rejection_rate_at_mde_matches_requested_power():
    from evalint.design.nulls import simulate_design

    r_null, r_check = 200, 200
    res = evalint.design.power(design="its", n_treated=2, pre=24, post=12, reps=r_null, seed=11).to_frame().iloc[0]
    check = simulate_design("its", 2, 24, 12, reps=r_check, seed=12, effect=-float(res["mde"]))
    assert abs(check["rejects"].mean() - 0.8) <= 3 * np.sqrt(0.8 * 0.2 * (1 / r_null + 1 / r_check))


def test_cli_accepts_the_design_key(tmp_path, capsys):
    cfg = tmp_path / "plan.toml"
    cfg.write_text('[power]\ndesign = "its"\nn_treated = [1]\npre = 18\npost = [6]\nreps = 20\n', encoding="utf-8")
    assert main(["power", str(cfg)]) == 0
    assert "ITS of the treated areas" in capsys.readouterr().out


def test_calibrated_mde_uses_the_null_quantile_of_t():
    from evalint.design.power import _mde, _power_at, _power_calibrated

    rng = np.random.default_rng(0)
    # an over-rejecting test: true SD of the estimate 2 x its reported SE, df large
    null = pd.DataFrame({"estimate": 0.02 * rng.standard_normal(4000), "se": np.full(4000, 0.01),
                         "df": np.full(4000, 1e6)})
    assert _power_at(null, 0.0, 0.05) == pytest.approx(2 * stats_norm_sf(0.98), abs=0.02)  # ~0.33
    assert _power_calibrated(null, 0.0, 0.05) == pytest.approx(0.05, abs=0.002)
    # closed form: the calibrated MDE of a N(0, 0.02^2) estimate is (1.96 + 0.84) x 0.02 on the log scale
    mde = _mde(null, 0.8, 0.05, _power_calibrated)
    assert -np.log1p(-mde) == pytest.approx((1.959964 + 0.841621) * 0.02, rel=0.05)


def stats_norm_sf(x):
    from scipy import stats

    return stats.norm.sf(x)


@pytest.mark.parametrize("design", ["sc", "sdid"])
def test_synthetic_rejection_rate_at_mde_matches_requested_power_small_case(design):
    """Small, fast case (8 ICBs, 2 treated, 12 + 6 months, 20 placebo SE draws): the actual
    estimator's rejection rate on fresh panels with the reported MDE generated in the counts is
    within three Monte Carlo SEs of the requested 80% (the full case: benchmarks/design_power.py)."""
    from evalint.design.nulls import simulate_design

    r_null, r_check = 60, 60
    res = evalint.design.power(design=design, n_treated=2, n_units=8, pre=12, post=6, reps=r_null, seed=11,
                               placebo_reps=20).to_frame().iloc[0]
    assert np.isfinite(res["mde"])
    check = simulate_design(design, 2, 12, 6, reps=r_check, seed=12, effect=-float(res["mde"]), placebo_reps=20,
                            n_units=8)
    assert abs(check["rejects"].mean() - 0.8) <= 3 * np.sqrt(0.8 * 0.2 * (1 / r_null + 1 / r_check))


def test_n_units_keeps_the_treated_and_draws_comparisons():
    from evalint.design.nulls import simulate_design

    with pytest.raises(SpecificationError, match="n_units"):
        simulate_design("sc", 3, 12, 6, reps=20, n_units=3)
    a = simulate_design("sc", 2, 12, 6, reps=3, seed=4, placebo_reps=10, n_units=6)
    b = simulate_design("sc", 2, 12, 6, reps=3, seed=4, placebo_reps=10, n_units=6)
    pd.testing.assert_frame_equal(a, b)
