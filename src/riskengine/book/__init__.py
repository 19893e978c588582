"""The book: schema, loading, validation and the sample-book generator (docs/data-format.md)."""

from .generate import generate_book
from .load import from_frames, load_book
from .model import Book
from .validate import validate_book

__all__ = ["Book", "from_frames", "generate_book", "load_book", "validate_book"]
