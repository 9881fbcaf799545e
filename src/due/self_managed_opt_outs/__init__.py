"""Architecture #8: STOP, START and HELP on two-way SMS, handled by you rather than by the service."""
