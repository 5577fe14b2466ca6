"""`elections verify`: the auditor's check of a warehouse, trusting nothing stored in it."""
