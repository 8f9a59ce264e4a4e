"""Sites: the tenants (one per publisher) with their origins and moderation policy."""
