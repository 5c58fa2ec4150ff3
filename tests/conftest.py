"""Print how long each stage of the suite took (CI keeps an eye on its 45-minute budget)."""
from collections import defaultdict

STAGES = {
    "test_book.py": "book build",
    "test_chapters.py": "smoke run of every chapter",
    "test_runner.py": "runner",
    "test_notebooks.py": "notebook shape",
}


def pytest_terminal_summary(terminalreporter):
    seconds = defaultdict(float)
    for reports in terminalreporter.stats.values():
        for report in reports:
            if hasattr(report, "duration") and hasattr(report, "nodeid"):
                name = report.nodeid.split("::")[0].rsplit("/", 1)[-1]
                seconds[STAGES.get(name, "unit tests")] += report.duration
    if seconds:
        terminalreporter.section("time per stage")
        for stage, total in sorted(seconds.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{total:8.1f} s  {stage}")
