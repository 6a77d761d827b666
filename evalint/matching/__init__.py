"""Matched comparison areas: select comparison units on pre-period outcome levels, trends and covariates.

``match_comparisons`` returns the matched panel, the pairs and a balance table (standardised mean
differences before and after); any DiD or synthetic control then runs on ``result.panel``.
Assumptions and the uncertainty of the matching step: methods/matching.md.
"""

from evalint.matching.balance import balance_table, control_weights
from evalint.matching.match import MatchResult, match_comparisons

__all__ = ["MatchResult", "balance_table", "control_weights", "match_comparisons"]
