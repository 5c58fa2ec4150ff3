"""Layer 1: which segments a task depends on (Algorithm 1, its multiple-testing rules, the baselines, the theory
checks)."""
