"""Callaway & Sant'Anna (2021) group-time average treatment effects.

``estimator.py`` (``CallawaySantAnna``, ``callaway_santanna``), ``cells.py`` (panel -> every ATT(g,t)
with its influence function), ``two_by_two.py`` (each cell's 2x2 estimator) and ``aggregate.py``
(influence functions drive every aggregation and the pre-trend check's inputs).
"""
