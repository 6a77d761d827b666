"""did estimators."""
