"""Introspection: what a model is made of (layers, summary, diagram, filters) and what it
responds to (feature maps, activation maximisation). Pure logic; the routes are in
app/api/introspect.py and app/api/jobs.py."""
