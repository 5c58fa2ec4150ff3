"""The worlds the paper reasons about: every generator has ``sample(n, seed)``."""
