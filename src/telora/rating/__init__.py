"""Mediation and rating: usage formats (formats/), the pure rating engine (engine/), and later the
pipeline that feeds it from files and writes rated usage."""
