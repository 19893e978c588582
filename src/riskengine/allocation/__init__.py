"""Capital allocation: expected losses (:mod:`.expected`) and Euler contributions to TVaR and VaR
(:mod:`.euler`) by buyer, group, policy, exposure, country, region and sector."""

from .euler import ALLOCATION_SCHEMA, contributions
from .expected import DIMENSIONS, EL_SCHEMA, expected_losses

__all__ = ["ALLOCATION_SCHEMA", "DIMENSIONS", "EL_SCHEMA", "contributions", "expected_losses"]
