"""Named, generated workloads: run each as ``python -m benchmarks.NAME`` (see README.md)."""
