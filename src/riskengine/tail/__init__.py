"""The tail store: the worst simulated years of a run, replayed and recorded with their
systematic draws and every exposure's claim (filled by the capital-allocation work)."""
