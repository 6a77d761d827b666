"""Difference-in-differences: TWFE and 2x2, event study, dose, Callaway-Sant'Anna,
Sun-Abraham, the imputation estimator and the Goodman-Bacon decomposition.

Public names
------------
TWFE, twfe
    Two-way fixed effects (2x2 DiD as a special case), CR1/CR2 or wild cluster bootstrap.
EventStudy, event_study
    Leads and lags with a stated reference period, binned end points, pre-trend Wald test.
DoseResponse, dose_response
    A continuous treatment intensity in TWFE or event-study form.
CallawaySantAnna, callaway_santanna, aggregate_att
    Group-time ATT(g,t) and its simple / dynamic / group / calendar aggregations.
SunAbraham, sun_abraham
    Interaction-weighted event study.
ImputationDiD, imputation_did
    Borusyak-Jaravel-Spiess imputation estimator.
BaconDecomposition, bacon_decomposition
    The 2x2 comparisons behind a TWFE estimate and their weights.

See ``methods/did.md``.
"""

from evalint.estimators.did.cs.aggregate import aggregate_att
from evalint.estimators.did.bacon import BaconDecomposition, bacon_decomposition
from evalint.estimators.did.dose import DoseResponse, dose_response
from evalint.estimators.did.event_study import EventStudy, event_study
from evalint.estimators.did.cs.estimator import CallawaySantAnna, callaway_santanna
from evalint.estimators.did.imputation.estimator import ImputationDiD, imputation_did
from evalint.estimators.did.sun_abraham import SunAbraham, sun_abraham
from evalint.estimators.did.twfe import TWFE, twfe

# seed= on every randomised estimator (the wild cluster bootstrap): one way in for the seed
from evalint.estimators.base import SeededDefault as _SeededDefault  # noqa: E402
from evalint.estimators.base import accepts_seed as _accepts_seed  # noqa: E402

# their default inference is chosen from the clusters at fit time: the seed goes with it
twfe = _accepts_seed(twfe, default=_SeededDefault)
event_study = _accepts_seed(event_study, default=_SeededDefault)
dose_response = _accepts_seed(dose_response, default=_SeededDefault)

__all__ = ["TWFE", "twfe", "EventStudy", "event_study", "DoseResponse", "dose_response",
           "CallawaySantAnna", "callaway_santanna", "aggregate_att", "SunAbraham", "sun_abraham",
           "ImputationDiD", "imputation_did", "BaconDecomposition", "bacon_decomposition"]
