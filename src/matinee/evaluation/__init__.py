"""Metrics, evaluation protocols and side-by-side comparison."""
