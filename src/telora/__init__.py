"""Telora: an open-source telecom BSS/OSS."""

__version__ = "0.1.0"
