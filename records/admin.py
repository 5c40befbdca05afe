"""Admin for records (added by their issue)."""
