"""Admin for integrations (added by their issue)."""
