"""The machinery that runs the book: runner, run folder, recording, profiles, cache, checks, report, assignments,
grading, Colab, Sphinx, PDF.

It never imports the science (worlds, ci, tasks, specialists, experiments), and the science never imports it."""
