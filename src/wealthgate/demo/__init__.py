"""The deterministic demo book and the synthetic generator for benchmarks."""
