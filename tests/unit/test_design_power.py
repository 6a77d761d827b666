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
        codes = sorted(evalint.simulate_nhs(seed=0, start="2020-01", end="2020-02", covid=False).data["icb_code"].unique())
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


def test_replications_identical_for_any_number_of_workers_and_backend():
    pytest.importorskip("joblib")
    serial = simulate_null(3, 12, 6, reps=4, seed=5)
    two = simulate_null(3, 12, 6, reps=4, seed=5, n_jobs=2)
    threads = simulate_null(3, 12, 6, reps=4, seed=5, n_jobs=2, backend="threading")
    pd.testing.assert_frame_equal(serial, two)
    pd.testing.assert_frame_equal(serial, threads)
    assert serial["estimate"].nunique() == 4  # four different panels, not one repeated
