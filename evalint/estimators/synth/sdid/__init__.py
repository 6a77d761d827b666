"""Synthetic difference-in-differences (Arkhangelsky et al. 2021), with SC and DiD as settings.

``estimator.py`` (``SyntheticDiD``, ``synthetic_did`` and the result tables), ``core.py`` (the one
weighted core: unit and time weights, the estimate, batched replicate re-estimation),
``design.py`` (panel -> outcome matrix, adoption starts, covariate residualising) and
``variance.py`` (placebo, bootstrap and jackknife variance).
"""
