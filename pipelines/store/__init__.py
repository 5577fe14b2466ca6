"""The append-only, hash-chained event log in DuckDB: writer, migrations, projections, raw archive, snapshot,
read-only access.
"""
