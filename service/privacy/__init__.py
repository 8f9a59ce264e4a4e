"""Personal data: encryption at rest, keyed look-up hashes, IP minimisation."""
