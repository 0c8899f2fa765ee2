"""Ways for other programs to reach a node."""
