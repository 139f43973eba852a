"""Model portfolios and portfolio analytics."""
