"""Architecture #2: a templated, loop-safe reply to mail received by SES."""
