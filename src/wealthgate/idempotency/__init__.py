"""Idempotency keys: a retried write returns the first answer instead of writing twice."""
