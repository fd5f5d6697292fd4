"""Alumni Autopilot: domain logic, use cases and adapters shared by every function."""
