"""Running the service (运维): backup and restore, health and readiness, metrics and logs, settings checks.

See ``docs/operations.md`` for the operator's side of each.
"""
