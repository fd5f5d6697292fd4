"""Pure rules: no I/O, no vendor SDK, no Flask. Inputs are config values and plain data."""
