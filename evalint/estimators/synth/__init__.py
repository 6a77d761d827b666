"""synth estimators."""
