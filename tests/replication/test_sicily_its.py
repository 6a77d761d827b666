"""Sicily smoking-ban ITS (Lopez Bernal, Cummins & Gasparrini 2017 tutorial data): every coefficient,
standard error and dispersion of R's glm / lm + sandwich::NeweyWest / nlme::gls AR(1) ML
(shared/reference/sicily_its/r_reference.R -> r_reference.csv), as listed in
reference_data/sicily_its/target.toml. Tolerances: relative 1e-6 (glm, lm, NeweyWest), 1e-4 (GLS-AR(1) ML)."""

from __future__ import annotations

import pandas as pd
import pytest

from evalint.replication import load_target, run_target


@pytest.fixture(scope="module")
def table(shared_reference):
    return run_target(load_target("sicily_its"))


def test_target_lists_every_row_of_the_r_reference(shared_reference):
    ref = pd.read_csv(shared_reference / "sicily_its" / "r_reference.csv")
    names = {q.quantity for q in load_target("sicily_its").quantities}
    for row in ref.itertuples():
        if row.term in ("dispersion", "phi"):
            assert f"{row.model_id}:{row.term}" in names
        else:
            assert f"{row.model_id}:{row.term}:estimate" in names
            assert f"{row.model_id}:{row.term}:std_error" in names
    assert len(names) == 2 * (len(ref) - 3) + 3


def test_target_references_equal_the_r_output(shared_reference):
    """The numbers in target.toml are the ones R wrote (no transcription slip)."""
    ref = pd.read_csv(shared_reference / "sicily_its" / "r_reference.csv")
    by_name = {q.quantity: q for q in load_target("sicily_its").quantities}
    for row in ref.itertuples():
        if row.term in ("dispersion", "phi"):
            assert by_name[f"{row.model_id}:{row.term}"].reference == row.estimate
        else:
            assert by_name[f"{row.model_id}:{row.term}:estimate"].reference == row.estimate
            assert by_name[f"{row.model_id}:{row.term}:std_error"].reference == row.std_error


@pytest.mark.parametrize("model_id", [
    "poisson_step", "quasipoisson_step", "quasipoisson_step_harmonic2", "quasipoisson_step_slope_harmonic2",
    "ols_hac_lag3", "ols_hac_lag3_adjusted", "ols_hac_lag6", "ols_plain", "gls_ar1_ml",
])
def test_model_reproduces_r(table, model_id):
    rows = table[table["quantity"].str.startswith(model_id + ":")]
    assert len(rows) >= 4
    failed = rows.loc[~rows["pass"], ["quantity", "reference", "reproduced", "tolerance"]]
    assert failed.empty, f"outside tolerance:\n{failed.to_string()}"


def test_tolerances_are_the_stated_ones():
    for q in load_target("sicily_its").quantities:
        assert q.relative
        assert q.tolerance == (1e-4 if q.quantity.startswith("gls_ar1_ml") else 1e-6)
