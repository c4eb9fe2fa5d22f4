"""Recommender models behind one interface."""
