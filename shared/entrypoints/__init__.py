"""Everything that reads a request or writes a response: HTTP handlers, cron admission, the CLI."""
