"""A local WeChat server for tests and benchmarks (see simulator.py)."""
