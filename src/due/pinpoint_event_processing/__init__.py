"""Architecture #4: Pinpoint email bounces and complaints, through #1's reputation logic."""
