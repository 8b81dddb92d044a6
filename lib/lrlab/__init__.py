"""lrlab: reproducible studies of how the step size shapes training (the library behind the book)."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("lrlab")
    """The installed distribution's version (``pyproject.toml``'s ``version``), as ``lrlab --version`` prints it."""
except _metadata.PackageNotFoundError:  # the source tree on sys.path without ``pip install``
    __version__ = "0+unknown"
