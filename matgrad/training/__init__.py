"""Training runs: TrainConfig (config.py), the loop (trainer.py), checkpoints, metrics and plots."""
