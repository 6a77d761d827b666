"""Abadie synthetic control (Abadie, Diamond & Hainmueller 2010).

``estimator.py`` (``SyntheticControl``, ``synthetic_control``), ``weights.py`` (one treated unit's
fit: predictor weights V, donor weights W, ``SCMProblem``, ``UnitFit``) and ``placebo.py`` (in-space
and in-time placebos, leave-one-out, the rank-test interval, pre-fit and V-search checks, the
assembled result).
"""
