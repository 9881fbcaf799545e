"""Digital user engagement reference architectures: the code every Lambda runs."""
