"""integrations models (added by their issue)."""
