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
CERTAINTY_JSON = "certainty.json"  # from format 4
# Not in the folder: the page of the publication's forensic report, in WarehousePaths.forensics /
# <publication_id>, written after the publication (format 4's page links to it).
FORENSICS_PAGE = "forensics.html"

# The format of a publication's folder, recorded in its event (`publication_format`) and manifest from
# format 2 on: which files it holds and how they are written, so that verify renders each folder as
# the version that wrote it did. An event without the key is of format 1 (publication_format_1.py);
# format 3 differs from 2 by its results page (results_page_format_2.py keeps the page of 1 and 2);
# format 4 adds certainty.json (the certainty bounds and the quarantine's materiality, recorded in its
# event) and shows them, and reporting per region on a tile map, on its page (results_page_format_3.py
# keeps the page of 3).
FIRST_PUBLICATION_FORMAT = 1
CERTAINTY_FORMAT = 4
CURRENT_PUBLICATION_FORMAT = 4
