"""Results of a run: the year loss table (:mod:`.ylt`), the :class:`Results` data object
(:mod:`.model`), summaries (:mod:`.summary`, treaty metrics in :mod:`.treaties`) and output files
(:mod:`.write`)."""

from .model import Results
from .ylt import YLT_SCHEMA

__all__ = ["Results", "YLT_SCHEMA"]
