"""The matinee command line."""
