"""Clients, their investment profile, and the agent context read."""
