"""Replication runner for ``reference_data/prop99_synthdid`` (Arkhangelsky et al. 2021, Table 1).

Reproduces, on the California Proposition 99 panel (39 states, 1970-2000, California treated
from 1989), the synthdid package's SDID, SC and DiD estimates, the SDID unit and time weights,
the effective numbers of controls and pre-periods, and the placebo standard errors of Table 1.

References
----------
Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021).
Synthetic Difference-in-Differences. American Economic Review 111(12), 4088-4118, Table 1.
"""

from __future__ import annotations

from evalint.data.panel import Panel
from evalint.datasets import load
from evalint.estimators.synth.sdid.estimator import synthetic_did

__all__ = ["prop99_panel", "run_prop99_synthdid"]

#: Placebo replications used for the standard errors (Table 1 used 200; more replications
#: shrink evalint's own Monte Carlo error so the comparison is dominated by the published draw's).
PLACEBO_REPS = 500
PLACEBO_SEED = 12345


def prop99_panel() -> Panel:
    """The Proposition 99 panel as an evalint Panel (outcome PacksPerCapita, treatment ``treated``)."""
    df = load("prop99_synthdid")
    return Panel.from_frame(df, unit="State", time="Year", outcome="PacksPerCapita", treatment="treated")


def _as_printed(weight: float) -> float:
    """A weight as the paper-results vignette prints it: ``round(w, 3)`` (synthdid_controls
    table) then xtable's default two decimals (``sprintf("%.2f")``), e.g. 0.01535 -> 0.015 -> 0.01."""
    return float(f"{round(weight, 3):.2f}")


def run_prop99_synthdid(target: dict | None = None) -> dict[str, float]:
    """Reproduce the prop99_synthdid quantities; returns quantity name -> value.

    Names: ``{SDID,SC,DID}_tau``, ``{SDID,SC,DID}_se_placebo``, ``SDID_omega[<state>]``,
    ``SC_omega[<state>]``, ``DID_omega_each``, ``{SDID,SC}_omega_table[<state>]`` and
    ``DID_omega_table_each`` (as printed in the paper-results vignette's weight table),
    ``SDID_lambda[<year>]``, ``N0_effective``, ``T0_effective``.
    """
    from evalint.estimators.synth.state import SDIDState
    from evalint.inference.specs import Placebo

    panel = prop99_panel()
    out: dict[str, float] = {}
    for method, label in (("sdid", "SDID"), ("sc", "SC"), ("did", "DID")):
        res = synthetic_did(panel, method=method, inference=Placebo(reps=PLACEBO_REPS, seed=PLACEBO_SEED),
                            calendar=False)
        out[f"{label}_tau"] = res.estimate
        out[f"{label}_se_placebo"] = res.se
        uw = res.tables["unit_weights"].set_index("unit")["weight"]
        if method == "did":
            out["DID_omega_each"] = float(uw.iloc[0])
            out["DID_omega_table_each"] = _as_printed(float(uw.iloc[0]))
            continue
        for unit, w in uw.items():
            out[f"{label}_omega[{unit}]"] = float(w)
            out[f"{label}_omega_table[{unit}]"] = _as_printed(float(w))
        if method == "sdid":
            tw = res.tables["time_weights"]
            for t, w in zip(tw["time"], tw["weight"]):
                out[f"SDID_lambda[{t}]"] = float(w)
            state = res.state_as(SDIDState)
            out["N0_effective"] = state.effective_controls
            out["T0_effective"] = state.effective_pre_periods
    return out
