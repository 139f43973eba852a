"""Accounts, the transaction ledger, and the positions and lots maintained from it."""
