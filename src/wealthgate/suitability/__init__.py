"""Firm policy (versioned) and the suitability check."""
