"""Ridge augmented synthetic control (Ben-Michael, Feller & Rothstein 2021).

``estimator.py`` (``AugmentedSyntheticControl``, ``augmented_synthetic_control``), ``weights.py``
(ridge-augmented weights, cross-validated lambda) and ``inference.py`` (conformal and jackknife+
intervals).
"""
