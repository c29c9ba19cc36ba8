"""Recordroom: the medical records (HIM) department's system."""

__version__ = "0.1.0"
