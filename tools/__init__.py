"""Tools beside the emulator: benchmarks, quality evaluations, one-off commands."""
