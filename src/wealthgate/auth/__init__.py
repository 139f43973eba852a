"""API keys, scopes and the Principal (who is calling, for which firm and advisor)."""
