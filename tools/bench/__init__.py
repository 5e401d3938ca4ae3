"""Benchmarks: `quarry bench`, each measured as a ratio against a baseline run alongside it."""
