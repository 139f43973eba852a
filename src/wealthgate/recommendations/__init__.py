"""Agent recommendations, their verdicts and their human review."""
