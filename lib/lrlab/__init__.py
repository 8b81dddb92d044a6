"""lrlab: reproducible studies of how the step size shapes training (the library behind the book)."""

__version__ = "0.1.0"
