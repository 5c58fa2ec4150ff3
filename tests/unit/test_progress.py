from specbook.progress import PROGRESS_ENV, progress_bar


def test_progress_bar_can_be_switched_off(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert not progress_bar(range(3)).disable
    assert progress_bar(range(3), progress=False).disable
    monkeypatch.setenv(PROGRESS_ENV, "0")
    assert progress_bar(range(3)).disable
    assert list(progress_bar(range(3))) == [0, 1, 2]
