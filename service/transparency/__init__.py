"""The public transparency report: what happened to comments, month by month, without PII."""
