"""Ridge augmented synthetic control (Ben-Michael, Feller & Rothstein 2021).

``estimator.py`` (``AugmentedSyntheticControl``, ``augmented_synthetic_control``; ``RidgeRefit``, what
it hands the inference layer) and ``weights.py`` (ridge-augmented weights, cross-validated lambda).
The conformal and jackknife+ intervals are in :mod:`evalint.inference.conformal`.
"""
