"""Tasks that pull from the accounting system: sync runs (see integrations.sync.pull)."""
