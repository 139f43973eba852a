"""The security master and daily prices: reference data shared by every firm."""
