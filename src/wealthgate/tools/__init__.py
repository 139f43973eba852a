"""The agent tool layer: one registry, served over REST (`/tools`), MCP and function-calling schemas."""
