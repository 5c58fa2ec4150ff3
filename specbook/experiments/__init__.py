"""What the chapters orchestrate: the structure benchmark's trials and the pixels-to-tasks trials."""
