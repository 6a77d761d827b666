"""Interrupted time series: segmented regression, count models, controlled ITS."""

from evalint.estimators.its.counts import CountITS, count_its
from evalint.estimators.its.design import DesignSpec, build_design
from evalint.estimators.its.segmented import SegmentedRegression, segmented_regression

__all__ = ["SegmentedRegression", "segmented_regression", "CountITS", "count_its", "DesignSpec", "build_design"]
