"""Tasks that push the outbox to the accounting system (see integrations.sync.push)."""
