"""Real Hearth processes and windows, for the tests, the benchmarks and the scripts."""
