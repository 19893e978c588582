"""Limits: credit-limit decisions and portfolio-wide limits (filled by the limits work)."""
