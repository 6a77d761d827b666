"""Acceptance checks of the sensitivity, design-power and matching tools with awkward input.

Each test was written against a failure of the code before it (a hang, a silent wrong number or
a raw traceback); the numbers asserted come from closed forms or hand computation.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy import stats

import evalint
from evalint.errors import SpecificationError
from evalint.sensitivity import EventTimeEstimates, honest_did_estimates

pytestmark = pytest.mark.filterwarnings("ignore::evalint.errors.EvalintWarning")


def _estimates() -> EventTimeEstimates:
    # three pre-periods (-4, -3, -2), two post-periods (0, 1), independent
    b = np.array([0.3, -0.1, 0.2, 1.0, 1.5])
    return EventTimeEstimates.from_arrays(b, np.diag([0.04, 0.04, 0.04, 0.05, 0.06]), 3)


def _run_with_timeout(fn, seconds: float):
    out: dict = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as exc:  # pragma: no cover - reported below
            out["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"did not finish within {seconds} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_huge_mbar_finishes_and_contains_the_closed_form_reach():
    # At Mbar = 1e9 the post-period violation may reach 1e9 x the largest pre-period change
    # (|0 - 0.2| = 0.4 is the largest: -0.1 -> 0.2 is 0.3, 0.2 -> 0 is 0.2, 0.3 -> -0.1 is 0.4),
    # so the interval for the effect at e = 0 must contain beta_0 -/+ 1e9 * 0.4 * 0.5 at least.
    # Before the fix the bisection never ended (the 1e-10 SE tolerance is below float spacing there).
    est = _estimates()
    res = _run_with_timeout(lambda: honest_did_estimates(est, Mbar=[1e9], ci="conditional", breakdown=False), 120)
    lo, hi = res.intervals[["lower", "upper"]].iloc[0]
    assert lo < 1.0 - 0.5 * 0.4e9 and hi > 1.0 + 0.5 * 0.4e9
    assert np.isfinite(lo) and np.isfinite(hi)


@pytest.mark.parametrize("points", [0, 1, 2, 19, 2.5])
def test_too_coarse_grid_is_refused_not_reported_as_an_empty_set(points):
    # Before: grid_points <= 2 reported NaN intervals and "the confidence set is empty" at Mbar = 0,
    # where the set contains the estimate 1.0 (the original z interval is 1 +/- 1.96 * sqrt(0.05)).
    with pytest.raises(SpecificationError, match="grid_points"):
        honest_did_estimates(_estimates(), Mbar=[0], grid_points=points, breakdown=False)


def test_smallest_allowed_grid_finds_the_interval():
    res = honest_did_estimates(_estimates(), Mbar=[0], ci="conditional", grid_points=20, breakdown=False)
    lo, hi = res.intervals[["lower", "upper"]].iloc[0]
    assert lo < 1.0 < hi and np.isfinite(lo) and np.isfinite(hi)


@pytest.mark.parametrize("top", [-1, 0, np.nan, np.inf, "4"])
def test_bad_breakdown_max_is_refused(top):
    # Before: breakdown_max <= 0 returned a breakdown value of inf ("none up to the largest Mbar
    # searched") although the interval covers 0 from Mbar = 1.004 on.
    with pytest.raises(SpecificationError, match="breakdown_max"):
        honest_did_estimates(_estimates(), Mbar=[1], breakdown_max=top)


def test_non_finite_l_vec_and_non_numeric_sizes_are_typed_errors():
    est = _estimates()
    with pytest.raises(SpecificationError, match="l_vec"):
        honest_did_estimates(est, l_vec=[np.nan, 1.0], Mbar=[0], breakdown=False)
    with pytest.raises(SpecificationError, match="Mbar"):
        honest_did_estimates(est, Mbar=["a"], breakdown=False)
    with pytest.raises(SpecificationError, match="M="):
        honest_did_estimates(est, method="smoothness", M=[None, "x"], breakdown=False)
    with pytest.raises(SpecificationError, match="slope"):
        evalint.pretrend_power(est, slope="x", draws=1000)


def test_smoothness_m0_with_one_pre_period_is_the_linear_extrapolation():
    # One pre-period: Delta^SD(0) is the line through delta_-2 and delta_-1 = 0, so
    # delta_0 = -beta_-2 and theta = beta_0 + beta_-2 = 1.1 with variance 0.05 + 0.04.
    est = EventTimeEstimates.from_arrays(np.array([0.1, 1.0, 1.5]), np.diag([0.04, 0.05, 0.06]), 1)
    res = honest_did_estimates(est, method="smoothness", M=[0], breakdown=False)
    z = stats.norm.ppf(0.975)
    lo, hi = res.intervals[["lower", "upper"]].iloc[0]
    assert lo == pytest.approx(1.1 - z * 0.3, abs=1e-6) and hi == pytest.approx(1.1 + z * 0.3, abs=1e-6)


def _singular_pre_estimates(eps: float) -> EventTimeEstimates:
    # pre-periods -4, -3, -2 whose covariance has rank 2 (+ eps): the third is the mean of the
    # first two, as when a far event time is estimated from the same few units
    a = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])
    pre = a.T @ a * 0.01 + eps * np.eye(3)
    sigma = np.zeros((5, 5))
    sigma[:3, :3] = pre
    sigma[3:, 3:] = np.diag([0.05, 0.06])
    return EventTimeEstimates.from_arrays(np.array([0.05, -0.02, 0.015, 1.0, 1.5]), sigma, 3)


@pytest.mark.parametrize("eps", [0.0, 1e-15])
def test_pretrend_power_refuses_a_singular_pre_period_covariance(eps):
    # Before: eps = 0 raised numpy's LinAlgError; eps = 1e-15 returned a Wald power of 1 at a slope
    # of 0.01 per period, although the closed-form power of the 2-dimensional test the data
    # support (chi2 with 2 df, lambda = d' pinv(S) d) is about 0.05.
    est = _singular_pre_estimates(eps)
    with pytest.raises(SpecificationError, match="singular"):
        evalint.pretrend_power(est, slope=[0.01], draws=1000)


@pytest.mark.parametrize("reductions", [[0.05, 1.5], [np.nan], [1.0], ["x"]])
def test_power_curves_refuse_reductions_that_are_not_reductions(reductions):
    # Before: a reduction of 150% or NaN got power 0.0 (log1p of -1.5 is NaN) and 100% power 1.0,
    # with no warning; the closed form has no value there (no rate left to take the log of).
    with pytest.raises(SpecificationError, match="reductions"):
        evalint.design.power(n_treated=3, pre=12, post=6, reps=20, reductions=reductions)


@pytest.mark.parametrize("key,value", [("seed", -1), ("seed", 1.5), ("seed", None), ("start", "2016-13"),
                                       ("start", "bad"), ("n_jobs", 0), ("n_treated", []), ("pre", []),
                                       ("post", ()), ("power", "0.8")])
def test_power_arguments_are_checked_before_any_simulation(key, value):
    # Before: raw ValueError/TypeError/DateParseError from numpy, joblib or pandas, and an empty
    # table for n_treated=[].
    with pytest.raises(SpecificationError, match=key):
        evalint.design.power(**{"n_treated": 3, "pre": 12, "post": 6, "reps": 20, key: value})


# ------------------------------------------------------------------ matching
def _match_panel():
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = []
    for i in range(8):
        lvl, slope = rng.normal(50, 5), rng.normal(0.5, 0.3)
        for t in range(12):
            rows.append({"unit": f"u{i}", "month": pd.Period("2021-01", "M") + t,
                         "y": lvl + slope * t + rng.normal(0, 1), "x": rng.normal(i, 1.0)})
    df = pd.DataFrame(rows)
    df["cohort"] = df["unit"].map({"u0": pd.Period("2021-09", "M"), "u1": pd.Period("2021-09", "M")})
    return evalint.Panel.from_frame(df, unit="unit", time="month", outcome="y", cohort="cohort", covariates=["x"])


@pytest.mark.parametrize("kwargs,match", [
    ({"treated": ["u0", "u0"]}, "treated= lists 'u0' more than once"),          # was pandas ValueError
    ({"treated": ["u0"], "candidates": ["u3", "u3", "u4"]}, "candidates= lists 'u3' more than once"),
    ({"caliper": "0.2"}, "caliper"),                                              # was numpy TypeError
    ({"outcome": "nope"}, "outcome column 'nope'"),                               # was pandas KeyError
    ({"method": "propensity", "penalty": -1.0}, "ridge penalty .* must be"),    # blamed separation, or ran
    ({"method": "propensity", "penalty": np.nan}, "ridge penalty .* must be"),   # blamed separation
])
def test_match_comparisons_bad_input_is_a_typed_error_naming_it(kwargs, match):
    from evalint.errors import EvalintError
    from evalint.matching import match_comparisons

    with pytest.raises(EvalintError, match=match):
        match_comparisons(_match_panel(), **kwargs)


def test_balance_after_matching_with_replacement_equals_hand_weighted_means():
    # ratio 2 with replacement: each treated unit's two matches weigh 1/2; the control mean after
    # matching is the mean over treated units of their matches' means (computed here by hand).
    import pandas as pd
    from evalint.matching import match_comparisons

    p = _match_panel()
    res = match_comparisons(p, ratio=2, replace=True)
    pre = p.data[p.data["month"] < pd.Period("2021-09", "M")].groupby("unit")["y"].mean()
    hand = np.mean([pre[g["control"]].mean() for _, g in res.pairs.groupby("treated")])
    sd = np.std(pre.to_numpy(), ddof=1)
    row = res.balance.set_index("feature").loc["level"]
    assert row["mean_control_after"] == pytest.approx(hand, rel=1e-12)
    assert row["smd_after"] == pytest.approx((pre[["u0", "u1"]].mean() - hand) / sd, rel=1e-12)


# ------------------------------------------------------------------ robustness checks
def _did_panel(outcomes=("y",)):
    import pandas as pd

    rng = np.random.default_rng(1)
    months = pd.period_range("2018-01", periods=48, freq="M")
    rows = []
    for i in range(6):
        a = rng.normal(100, 10)
        for t, m in enumerate(months):
            y = a + 0.3 * t + rng.normal(0, 2) + (4.0 if i < 2 and t >= 36 else 0.0)
            rows.append({"unit": f"u{i}", "month": m, "y": y, "y2": rng.normal(0, 1),
                         "cohort": months[36] if i < 2 else pd.NaT})
    df = pd.DataFrame(rows)
    return evalint.Panel.from_frame(df, unit="unit", time="month", outcome=list(outcomes), cohort="cohort")


def test_negative_control_listed_twice_is_refused_not_double_adjusted():
    # Before: outcome=['y2', 'y2'] ran with a Bonferroni factor of 2 (p_adjusted = min(1, 2p))
    # where one control was tested (p_adjusted must equal p).
    with pytest.raises(SpecificationError, match="'y2' more than once"):
        evalint.negative_control(_did_panel(("y", "y2")), "twfe", outcome=["y2", "y2"])


@pytest.mark.parametrize("kwargs,match", [
    ({"units": []}, "units= lists no comparison unit"),     # was pandas ValueError (argmax of empty)
    ({"units": ["u3", "u3"]}, "'u3' more than once"),       # refitted twice, shown twice
    ({"alpha": 2}, "alpha=2"),                              # ran; every refit 'significant' at 2
    ({"alpha": "0.05"}, "alpha='0.05'"),
])
def test_leave_one_out_bad_arguments(kwargs, match):
    with pytest.raises(SpecificationError, match=match):
        evalint.leave_one_out(_did_panel(), "twfe", **kwargs)


@pytest.mark.parametrize("kwargs,match", [
    ({"window": 2.5}, "window=2.5"),                        # ran with window 2
    ({"pre_periods": "All"}, "pre_periods='All'"),          # was ValueError from int()
    ({"pre_periods": 12.5}, "pre_periods=12.5"),            # ran with 12
    ({"n_jobs": 0}, "n_jobs=0"),                            # was joblib's ValueError
    ({"alpha": "0.05"}, "alpha='0.05'"),                    # was TypeError
])
def test_placebo_in_time_bad_arguments(kwargs, match):
    kw = {"window": 6, "pre_periods": 12, **kwargs}
    with pytest.raises(SpecificationError, match=match):
        evalint.placebo_in_time(_did_panel(), "twfe", **kw)


@pytest.mark.parametrize("window,pre_periods", [(6.0, 12), ("6", "12"), (" 6 ", 12)])
def test_placebo_in_time_whole_float_or_text_window_equals_the_int(window, pre_periods):
    # whole numbers given as floats or text (as int() read them before the checks) run as before
    a = evalint.placebo_in_time(_did_panel(), "twfe", window=window, pre_periods=pre_periods,
                                dates=["2019-06", "2019-09"])
    b = evalint.placebo_in_time(_did_panel(), "twfe", window=6, pre_periods=12, dates=["2019-06", "2019-09"])
    assert a.table.equals(b.table)


@pytest.mark.parametrize("rel_time", [[-5, -3, -2, 0, 1],       # a gap: the restrictions take positions as periods
                                      [-4, -3, -2, 1, 2],       # post-periods not from 0
                                      [-3, -2, -1, 0, 1],       # the reference period estimated
                                      [-2, -3, -4, 0, 1],       # not in order
                                      [-4, -3, -2, 0, 1, 2]])   # one more event time than estimates
def test_event_times_given_with_arrays_must_be_the_consecutive_window(rel_time):
    # Before: each was accepted and the intervals/power computed as if the event times were
    # -4, -3, -2, 0, 1 (e.g. pretrend_power with [-5, -3, -2, 0, 1] gave power 0.46 at slope 0.1).
    b = np.array([0.3, -0.1, 0.2, 1.0, 1.5])
    with pytest.raises(SpecificationError, match="rel_time"):
        EventTimeEstimates.from_arrays(b, np.diag([0.04, 0.04, 0.04, 0.05, 0.06]), 3, rel_time=rel_time)


def test_event_times_given_as_the_window_are_accepted():
    b = np.array([0.3, -0.1, 0.2, 1.0, 1.5])
    est = EventTimeEstimates.from_arrays(b, np.diag([0.04, 0.04, 0.04, 0.05, 0.06]), 3, rel_time=[-4, -3, -2, 0, 1])
    assert est.pre_times.tolist() == [-4.0, -3.0, -2.0] and est.post_times.tolist() == [0.0, 1.0]


def test_ratio_above_the_number_of_candidates_with_replacement_is_refused():
    # Before: ratio=3 with 2 candidates returned 2 matches per treated unit, the info and the
    # summary still saying ratio 3, and no treated unit reported short of matches.
    from evalint.matching import match_comparisons

    with pytest.raises(SpecificationError, match="ratio"):
        match_comparisons(_match_panel(), treated=["u0"], candidates=["u3", "u4"], ratio=3, replace=True,
                          on=["level"])
    res = match_comparisons(_match_panel(), treated=["u0"], candidates=["u3", "u4"], ratio=2, replace=True,
                            on=["level"])
    assert sorted(res.pairs["control"]) == ["u3", "u4"]


def test_power_on_a_base_panel_with_treated_units_warns():
    # Before: a base panel whose units 0-1 are treated from its 31st month was used silently, the
    # placebo windows reaching into their treated months (4 of the 40 months x 2 units).
    import pandas as pd

    from evalint.design.nulls import RealBase
    from evalint.errors import ConfoundingWarning

    rng = np.random.default_rng(0)
    months = pd.period_range("2018-01", periods=40, freq="M")
    df = pd.DataFrame([{"unit": f"u{i}", "month": m, "y": 100 + rng.normal(0, 5),
                        "cohort": months[30] if i < 2 else pd.NaT} for i in range(6) for m in months])
    with pytest.warns(ConfoundingWarning, match="2 unit"):
        RealBase(evalint.Panel.from_frame(df, unit="unit", time="month", outcome="y", cohort="cohort"))


def _event_study_like(scale: float):
    # an event-study result as the sensitivity tools read it: effects rows and the covariance,
    # with the reference period -1 carrying a zero variance
    import types

    import pandas as pd

    times = [-4.0, -3.0, -2.0, -1.0, 0.0, 1.0]
    b = np.array([0.3, -0.1, 0.2, 0.0, 1.0, 1.5]) * scale
    v = np.diag([0.04, 0.04, 0.04, 0.0, 0.05, 0.06]) * scale ** 2
    effects = pd.DataFrame({"rel_time": times, "estimate": b, "std_error": np.sqrt(np.diag(v))})
    vcov = pd.DataFrame(v, index=times, columns=times)
    return types.SimpleNamespace(tables={"event_time_vcov": vcov}, effects=effects, method="event study")


def test_sensitivity_is_scale_equivariant_down_to_tiny_outcomes():
    # Before: on an outcome scaled by 1e-12 (variances ~1e-26) every event time fell below the
    # absolute 1e-20 variance cut for reference periods and the result was refused with
    # "got event times ." (none); the intervals must be those of the unscaled data times 1e-12.
    ref = evalint.honest_did(_event_study_like(1.0), Mbar=[0, 1], ci="conditional", breakdown=False)
    tiny = evalint.honest_did(_event_study_like(1e-12), Mbar=[0, 1], ci="conditional", breakdown=False)
    assert tiny.estimates.rel_time.tolist() == [-4.0, -3.0, -2.0, 0.0, 1.0]
    np.testing.assert_allclose(tiny.intervals[["lower", "upper"]].to_numpy() / 1e-12,
                               ref.intervals[["lower", "upper"]].to_numpy(), rtol=1e-6)


def test_a_function_estimator_that_returns_no_result_is_named():
    # Before: AttributeError "'float' object has no attribute 'ci'" from inside the check.
    with pytest.raises(SpecificationError, match="returned float"):
        evalint.placebo_in_time(_did_panel(), lambda panel, date: 3.0, window=6, pre_periods=12,
                                dates=["2019-06"])
    with pytest.raises(SpecificationError, match="returned NoneType"):
        evalint.leave_one_out(_did_panel(), lambda panel, date: None, units=["u3"])


@pytest.mark.parametrize("in_table", [True, False])
def test_reference_period_other_than_minus_one_is_named(in_table):
    # anticipation=1 (C-S universal base, Sun-Abraham) normalises to e = -2 and estimates e = -1.
    # Before: the error blamed C-S's varying base period and told the user to refit with
    # base_period='universal', which they had done.
    import types

    import pandas as pd

    times = [-4.0, -3.0, -2.0, -1.0, 0.0, 1.0]
    v = np.diag([0.04, 0.04, 0.0, 0.04, 0.05, 0.06])
    keep = times if in_table else [t for t in times if t != -2.0]
    eff = pd.DataFrame({"rel_time": times, "estimate": [0.3, -0.1, 0.0, 0.2, 1.0, 1.5],
                        "std_error": np.sqrt(np.diag(v))})
    vcov = pd.DataFrame(v, index=times, columns=times).loc[keep, keep]
    res = types.SimpleNamespace(tables={"event_time_vcov": vcov}, effects=eff, method="Sun-Abraham")
    with pytest.raises(SpecificationError, match="normalised to event time -2 .*anticipation=0"):
        evalint.honest_did(res, Mbar=[1])


@pytest.mark.parametrize("design", ["did", "its"])
def test_n_units_outside_sdid_and_sc_is_refused(design):
    # Before: design.power(n_units=8) with the DiD returned the 42-ICB table unchanged (identical to
    # the call without n_units), a planner of a one-region evaluation reading it as 8 ICBs.
    with pytest.raises(SpecificationError, match="n_units=8 is not used"):
        evalint.design.power(n_treated=3, pre=12, post=6, reps=20, n_units=8, design=design)


@pytest.mark.parametrize("kwargs", [{"ar": 0.9}, {"ar_sd": 0.1}, {"placebo_reps": 20}])
def test_noise_and_placebo_settings_the_did_ignores_are_refused(kwargs):
    # Before: design.power(ar=0.9) with the DiD (whose panels have no AR noise) returned the same
    # table as without it.
    with pytest.raises(SpecificationError, match="would be ignored"):
        evalint.design.power(n_treated=3, pre=12, post=6, reps=20, **kwargs)


def test_negative_control_without_a_p_value_is_no_reading():
    # Before: a control whose fit gave no p-value (NaN) produced the verdict "No effect on the
    # negative-control outcome(s) (smallest p = nan >= 0.05): no sign of a bias".
    import types

    def fit(panel, date):
        if panel.outcome == "y2":
            return types.SimpleNamespace(estimate=np.nan, se=np.nan, ci=(np.nan, np.nan), p_value=np.nan)
        return evalint.twfe(panel, calendar=False)

    res = evalint.negative_control(_did_panel(("y", "y2")), fit, outcome="y2")
    assert res.verdict.startswith("No reading") and np.isnan(res.p_value)
    assert any("'y2'" in n and "not tested" in n for n in res.notes)


@pytest.mark.parametrize("n_jobs", [1.0, 2.0, np.int64(2), np.float64(1.0)])
def test_whole_float_worker_counts_run_as_before(n_jobs):
    # os.cpu_count() / 2 is a float: a whole one is a worker count (refused as a float today, by mistake)
    from evalint._parallel import parallel_map

    assert parallel_map(lambda x, rng: x * 2, [1, 2, 3], seed=0, n_jobs=n_jobs, backend="threading") == [2, 4, 6]


@pytest.mark.parametrize("n_jobs", [0, 1.5, float("nan"), True, "2"])
def test_other_worker_counts_are_refused(n_jobs):
    from evalint._parallel import parallel_map

    with pytest.raises(SpecificationError, match="n_jobs="):
        parallel_map(lambda x, rng: x, [1], seed=0, n_jobs=n_jobs)
