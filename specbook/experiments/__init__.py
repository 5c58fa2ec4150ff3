"""What the chapters orchestrate: the structure benchmark's trials, the sparsity trials over a family of
task-latent worlds, and the pixels-to-tasks trials."""
