"""cellseg: segment and count cells in microscopy images."""

__version__ = "0.1.0"
