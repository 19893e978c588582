"""Capital allocation: Euler contributions of buyers, policies, countries and sectors to TVaR and
VaR (filled by the capital-allocation work)."""
