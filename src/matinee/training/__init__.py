"""The shared training loop and its callbacks."""
