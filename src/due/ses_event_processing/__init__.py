"""Architecture #1: SES bounce and complaint notifications keep the address list clean."""
