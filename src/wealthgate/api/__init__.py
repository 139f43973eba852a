"""The HTTP entrypoint: a thin FastAPI adapter over the domain services."""
