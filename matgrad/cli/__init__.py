"""The `matgrad` command: train, eval, predict, data and explain."""
