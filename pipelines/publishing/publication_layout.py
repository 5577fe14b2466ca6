"""The names of the files in a publication folder: one place, shared by the writer and the checkers."""

from __future__ import annotations

MANIFEST = "manifest.json"
SEATS_CSV = "seats.csv"
SEATS_JSON = "seats.json"
SEATS_PARQUET = "seats.parquet"
NATIONAL_CSV = "totals-national.csv"
NATIONAL_JSON = "totals-national.json"
REGIONAL_CSV = "totals-regional.csv"
REGIONAL_JSON = "totals-regional.json"
CDF_JSON = "results.nist-cdf.json"
RESULTS_PAGE = "results.html"
ALLOCATION_JSON = "allocation.json"
SIGNATURE = "manifest.sig"
PRECINCTS_CSV = "precincts.csv"
PRECINCTS_PARQUET = "precincts.parquet"
WORKBOOK = "results.xlsx"
