"""Connect as a Channel (architecture #13): outbound voice calls that speak a message."""
