"""Electoral rules: rule profiles and exact seat allocation (no storage, no I/O beyond profiles)."""
