"""The human review queue and the moderation event log."""
