"""Helpers of the HTTP benchmarks: bench databases, a gunicorn on loopback, a small load generator."""
