"""Shared test helpers: local servers speaking real wire formats, config builders."""
