"""Replication of R did's published Callaway-Sant'Anna output on mpdta.

Targets: reference_data/mpdta/target.toml (107 published numbers from the did README,
reference docs (att_gt, aggte) and the did-basics vignette; rows of
shared/reference/published_estimates.csv with dataset_id = mpdta). Point estimates and
pre-test p-values to half a unit of the last printed digit; bootstrap SEs within 10%.
"""

from __future__ import annotations

import pytest

from evalint.replication import load_target, run_target


@pytest.fixture(scope="module")
def mpdta_table(shared_reference):
    if not (shared_reference / "mpdta" / "data.csv").is_file():
        pytest.skip("mpdta/data.csv not in the shared reference folder")
    return run_target(load_target("mpdta"))


def test_target_lists_every_published_mpdta_number(shared_reference):
    import pandas as pd

    pub = pd.read_csv(shared_reference / "published_estimates.csv")
    pub = pub[pub["dataset_id"] == "mpdta"]
    t = load_target("mpdta")
    names = [q.quantity for q in t.quantities]
    assert len([n for n in names if ".se." not in n]) == len(pub)
    assert len([n for n in names if ".se." in n]) == int(pub["se"].notna().sum())


@pytest.mark.parametrize("part", ["readme_reg", "docs_dr.", "docs_dr_lpop.", "docs_dr_lpop_nyt", "vignette_dr"])
def test_point_estimates_match_published(mpdta_table, part):
    t = mpdta_table[mpdta_table["quantity"].str.startswith(part)
                    & ~mpdta_table["quantity"].str.contains(".se.", regex=False)]
    assert len(t) > 0
    bad = t.loc[~t["pass"], ["quantity", "reference", "reproduced"]]
    assert bad.empty, bad.to_string()


def test_bootstrap_ses_within_ten_percent(mpdta_table):
    t = mpdta_table[mpdta_table["quantity"].str.contains(".se.", regex=False)]
    assert len(t) == 103
    bad = t.loc[~t["pass"], ["quantity", "reference", "reproduced"]]
    assert bad.empty, bad.to_string()


def test_pretest_pvalues(mpdta_table):
    t = mpdta_table[mpdta_table["quantity"].str.endswith("pretest_pvalue")]
    assert len(t) == 4 and t["pass"].all(), t.to_string()
