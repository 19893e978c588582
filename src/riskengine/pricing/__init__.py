"""Pricing: technical premiums per policy and calibrated rate cards (filled by the pricing work)."""
