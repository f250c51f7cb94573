"""Benchmarks: each module measures its figure and a baseline side by side in one run."""
