"""Seat tables and publications: files, NIST export, results page, diffs, signatures, self-checks."""
