"""The command-line entrypoint (Typer): a thin adapter over the same services the API uses."""
