"""What may be read and whether it is valid: safe file intake, protocol formats, Great Expectations
validation, anomaly flags.
"""
