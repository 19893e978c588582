"""The tail store: the worst simulated years of a run, replayed and recorded with their
systematic draws and every exposure's claim (:mod:`.store`)."""

from .store import TAIL_DIR, TailStore, build_store, exposure_labels, read_store, select_years

__all__ = ["TAIL_DIR", "TailStore", "build_store", "exposure_labels", "read_store", "select_years"]
