"""Data to run on: shipped history, synthetic precincts, the election-night simulator, large elections. Only
commands that load history or rehearse a night import it.
"""
