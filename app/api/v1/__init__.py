"""KServe's V1 inference protocol: readiness, :predict and :explain (docs/kserve.md)."""
