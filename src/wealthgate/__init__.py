"""wealthgate: durable, audited, suitability-checked access to wealth data for AI agents."""

__version__ = "0.1.0"
