"""Analytic loss distributions: CreditRisk+ (filled by the analytic work)."""
