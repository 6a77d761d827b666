"""its estimators."""
