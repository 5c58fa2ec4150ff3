"""cache_path: a file in the folder SPECBOOK_CACHE_DIR names, or None without one."""
import pytest

from specbook.harness.cache import CACHE_ENV, cache_path


def test_no_cache_without_the_variable(monkeypatch):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert cache_path("08_gan_editing", "gan.pt") is None


def test_path_under_the_cache_with_its_folders_made(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    path = cache_path("08_gan_editing", "gan-sparsity0.05-seed0.pt")
    assert path == tmp_path / "cache" / "08_gan_editing" / "gan-sparsity0.05-seed0.pt"
    assert path.parent.is_dir() and not path.exists()


@pytest.mark.parametrize("parts", [(), ("../escape.pt",), ("a/b.pt",), ("",), (3,)])
def test_parts_must_be_plain_names(monkeypatch, tmp_path, parts):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    with pytest.raises(ValueError):
        cache_path(*parts)
