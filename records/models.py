"""records models (added by their issue)."""
