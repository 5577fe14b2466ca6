"""The lowest layer: errors and exit codes, timestamps, the repository's paths, durable file writes."""
