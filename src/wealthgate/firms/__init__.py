"""Firms (the tenant) and their advisors."""
