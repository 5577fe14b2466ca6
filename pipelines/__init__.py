"""Event-sourced election results pipeline: precinct protocols in, certified seat tables out."""

__version__ = "0.1.0"
