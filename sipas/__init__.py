"""sipas: per-dossier citizen satisfaction ratings for a ward's one-stop counter."""

__version__ = "0.1.0"
