"""A design is a plug-in: a toy design registered from this module runs in evaluate() end to end.

The toy is a naive before-after comparison (the treated units' mean after the intervention
date minus their mean before it). Everything it needs is in this file: the Design object and
one ``register_design`` line; evaluate(), the design choice and its skip reason, the
triangulation table and verdict, the report (label and figure), the configuration schema and
the command line's help pick it up from the registry. Numbers asserted are the closed-form
difference of means computed here with pandas from the simulated data.
"""

from __future__ import annotations

import math
import textwrap
import warnings

import pytest

from evalint.datasets import simulate_nhs
from evalint.errors import ConfigError, SpecificationError
from evalint.evaluate import evaluate
from evalint.evaluate.registry import (
    Design,
    FigureSpec,
    Variant,
    register_design,
    unregister_design,
)
from evalint.evaluate.scale import from_absolute
from evalint.results.effect import InferenceInfo, make_result

PILOT = {"QHG": "2021-04"}
STAGGERED = {"QHG": "2020-04", "QUE": "2020-10", "QM7": "2021-04", "QH8": "2021-04"}
LABEL = "Before-after (naive)"


# ----------------------------------------------------------------------------- the toy design
def _identify(panel, assignment):
    if assignment.is_staggered:
        return "a before-after comparison needs one intervention date"
    return [TOY.plan("before_after", "one date: the treated units' mean after minus before")]


def _run(ctx, outcome, plan):
    a = ctx.assignment
    series = ctx.panel.aggregate("treated units", units=a.treated_units)
    d = series.data
    after = (d[series.time] >= a.cohorts[0]).to_numpy()
    y = d[outcome].to_numpy(float)
    est = y[after].mean() - y[~after].mean()
    se = math.sqrt(y[after].var(ddof=1) / after.sum() + y[~after].var(ddof=1) / (~after).sum())
    res = make_result(method="before_after", estimand="mean after minus mean before", term="after - before",
                      outcome=outcome, estimate=est, se=se, alpha=ctx.alpha, panel=series,
                      inference=InferenceInfo("normal", "normal interval, SE of a difference of two means"))
    return res, {}


def _scale(result, ctx, outcome, totals, spec):
    lo, hi = result.ci
    return from_absolute(result.estimate, lo, hi, totals, native=f"after - before {result.estimate:.4g}")


def _figures(ev, outcome, words, where, span, name):
    res = ev.results.get(("before_after", outcome))
    if res is None or not hasattr(res, "estimate"):
        return []

    def draw():
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(3, 2))
        ax.bar(["after - before"], [res.estimate])
        return fig

    return [FigureSpec(f"before_after_{outcome}", f"Before-after: {words}", f"{words} in {where}.", draw)]


TOY = Design(
    name="before_after", title="naive before-after",
    variants=(Variant("before_after", LABEL, _run, _scale,
                      assumption="nothing else changed the outcome between the two periods"),),
    identify=_identify, figures=_figures,
)


@pytest.fixture(scope="module")
def toy():
    register_design(TOY)  # the one registration line
    yield TOY
    unregister_design("before_after")


@pytest.fixture(scope="module")
def sim():
    return simulate_nhs(seed=4, adoption=PILOT, effects={"length_of_stay": -0.3}, covid=False,
                        days_in_month=False)


@pytest.fixture(scope="module")
def ev(toy, sim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(sim.panel, PILOT, outcomes=["length_of_stay"], designs=["its", "before_after"],
                        fast=True, calendar=False)


def _closed_form(sim) -> float:
    d = sim.data.loc[sim.data["icb_code"] == "QHG"]
    after = d["month"].astype(str) >= "2021-04"
    return float(d.loc[after, "length_of_stay"].mean() - d.loc[~after, "length_of_stay"].mean())


def test_toy_design_runs_end_to_end(ev, sim):
    assert ev.designs == ["its", "before_after"]
    t = ev.table().set_index("design")
    assert t.loc["before_after", "label"] == LABEL
    assert t.loc["before_after", "status"] == "ok"
    assert t.loc["before_after", "absolute"] == pytest.approx(_closed_form(sim), rel=1e-12)
    assert "before_after" in ev.verdicts["length_of_stay"].designs
    assert LABEL in ev.verdicts["length_of_stay"].text or ev.verdicts["length_of_stay"].status == "agree"


def test_toy_design_in_the_report(ev, tmp_path):
    ev.report(tmp_path / "r.md")
    md = (tmp_path / "r.md").read_text()
    assert LABEL in md
    assert (tmp_path / "r_figures" / "before_after_length_of_stay.png").is_file()
    assert LABEL in ev.summary()


def test_toy_design_skip_reason(toy):
    sim = simulate_nhs(seed=1, adoption=STAGGERED, effects={"length_of_stay": -0.3}, covid=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(sim.panel, STAGGERED, outcomes=["length_of_stay"], designs=["before_after"],
                      fast=True, calendar=False)
    assert ev.skipped == {"its": "not requested (designs=['before_after'])",
                          "did": "not requested (designs=['before_after'])",
                          "synth": "not requested (designs=['before_after'])",
                          "before_after": "a before-after comparison needs one intervention date"}
    assert ev.plans == ()


def test_config_and_cli_read_the_registry(toy, tmp_path):
    import argparse

    from evalint.evaluate.cli import add_arguments
    from evalint.evaluate.config import load_config

    body = textwrap.dedent("""
        [data]
        simulate = { seed = 1 }
        [evaluation]
        outcomes = ["length_of_stay"]
        intervention = "2021-04"
        treated = ["QHG"]
        designs = [{}]
    """)
    (tmp_path / "ok.toml").write_text(body.replace("{}", '"before_after"'))
    assert load_config(tmp_path / "ok.toml").evaluation["designs"] == ["before_after"]
    (tmp_path / "bad.toml").write_text(body.replace("{}", '"before_afterr"'))
    with pytest.raises(ConfigError, match="'before_after'"):
        load_config(tmp_path / "bad.toml")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert '"before_after"' in parser.epilog


def test_options_key_and_unknown_design_read_the_registry(toy, sim):
    with pytest.raises(SpecificationError, match="'before_after'"):
        evaluate(sim.panel, PILOT, options={"nope": {}}, calendar=False)
    with pytest.raises(SpecificationError, match="before_after"):
        evaluate(sim.panel, PILOT, designs=["nope"], calendar=False)


def test_registry_refuses_clashes():
    from evalint.evaluate.registry import get_design

    with pytest.raises(SpecificationError, match="already registered"):
        register_design(get_design("its"))
    clash = Design(name="its2", title="x", variants=(get_design("did").variants[0],), identify=_identify)
    with pytest.raises(SpecificationError, match="'did' is already used"):
        register_design(clash)
    with pytest.raises(SpecificationError, match="lower case"):
        register_design(Design(name="Auto", title="x", variants=TOY.variants, identify=_identify))
