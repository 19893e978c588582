"""Yardsticks for the engine: a plain NumPy reference of the model and closed-form laws.

* :mod:`reference.model` — docs/model.md §2–§4 in plain NumPy/SciPy: independent draws
  (``reference_draws``), the deterministic loss and policy-terms rules (``reference_losses``), and
  both chained in batches (``reference_simulate``). Small books only; clarity over speed.
* :mod:`reference.laws` — closed forms: the Vasicek large-portfolio law, the exact finite
  homogeneous-portfolio distribution (Gaussian and Student-t copulas), bivariate event
  probabilities, the exact expected ground-up loss, and order-statistic quantile bands.
* :mod:`reference.allocation` — exact tails of discrete laws (VaR, TVaR, the boundary atom's
  fraction) and the exact Euler contributions of two independent segments.

Nothing here imports the engine's kernels or its random number generator: agreement between the
two is evidence because they share nothing but the rules.
"""
