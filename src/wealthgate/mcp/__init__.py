"""The MCP entrypoint: one server on the official SDK, over streamable HTTP (mounted at /mcp) and stdio.

Inside this package `import mcp` is the SDK (imports are absolute); this package is `wealthgate.mcp`.
"""
