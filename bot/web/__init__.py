"""The aiohttp server: webhooks, the web chat and the health check."""
