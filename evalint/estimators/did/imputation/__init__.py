"""The imputation estimator of Borusyak, Jaravel & Spiess (2024).

``estimator.py`` (``ImputationDiD``, ``imputation_did``, BJS Test 1 leads regression) and
``untreated_model.py`` (the untreated-cell fixed-effects fit and the Theorem 3 cluster scores).
"""
