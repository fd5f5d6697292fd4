"""Cross-cutting building blocks: environment names, logs, tokens, idempotency, the mail ledger, texts."""
