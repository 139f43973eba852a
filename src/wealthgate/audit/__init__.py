"""The audit trail: every state change and agent action, recorded in the same transaction."""
