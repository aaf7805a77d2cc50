"""The runtime: loaded models (sessions, gradient engine, taps, layer facts), the one
session factory and session cache, and the scheduling of work (batching, the explain gate,
jobs, cancellation)."""
