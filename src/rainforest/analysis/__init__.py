"""Analyses: pure functions over the model (ecological network analysis first)."""
