"""`elections serve`: read-only HTTP over the publications and the readers' snapshot."""
