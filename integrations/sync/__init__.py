"""The sync engine: `push` (outbox -> provider), `pull` (provider -> records), `links`.

Interfaces (API views, admin, tasks) call these; they use the provider interface of
`integrations.providers.base` only, so a second provider needs no change here.
"""
