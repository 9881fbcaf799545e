"""Event-based segmentation: engagement events change people's attributes, by rules that are data.

``events`` turns each source's record (SES, End User Messaging SMS, Pinpoint, the application's own) into one
shape; ``rules`` reads a rule set and turns a batch of events into one change per person.
"""
