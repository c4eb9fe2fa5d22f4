"""Saved models: arrays in safetensors plus a JSON manifest; loading never executes code."""
