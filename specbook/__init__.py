"""specbook: the executable companion to "From Generalist to Specialist Representation".

The public names load on first use (PEP 562), so ``import specbook`` is quick and imports
neither torch nor the models: the command line's ``check`` and ``report``, the Sphinx
extension and the Layer 1 chapters never pay for what they do not use.
"""
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("specbook")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

#: Submodules reachable as attributes (``specbook.theory`` is ``specbook.tasks.theory``) without
#: importing them first: the short names chapters have always used.
_SUBMODULES = {
    "cats": "worlds.cats", "latent": "worlds.latent", "video": "worlds.video",
    "theory": "tasks.theory",
    "editing": "specialists.editing", "encoders": "specialists.encoders", "gan": "specialists.gan",
    "identifiability": "specialists.identifiability",
    "pixels": "experiments.pixels",
    "explorers": "explorers",
    "metrics": "metrics",
    "profiles": "harness.profiles",
}

#: Public name -> (module, attribute in it).
_NAMES = {
    "CatRenderer": ("worlds.cats", "CatRenderer"),
    "ci_test": ("ci", "ci_test"),
    "get_ci_test": ("ci", "get_ci_test"),
    "ColliderWorld": ("worlds.collider", "ColliderWorld"),
    "WorldSample": ("worlds.collider", "WorldSample"),
    "SelectedSample": ("worlds.collider", "SelectedSample"),
    "task_outcomes": ("worlds.collider", "task_outcomes"),
    "FrameVAE": ("specialists.encoders", "FrameVAE"),
    "TaskDiscovery": ("tasks.discovery", "TaskDiscovery"),
    "band_set": ("tasks.discovery", "band_set"),
    "local_band": ("tasks.discovery", "local_band"),
    "discover_tasks": ("tasks.discovery", "discover_tasks"),
    "oracle_tasks": ("tasks.discovery", "oracle_tasks"),
    "SpecialistGAN": ("specialists.gan", "SpecialistGAN"),
    "LatentSample": ("worlds.latent", "LatentSample"),
    "TaskLatentWorld": ("worlds.latent", "TaskLatentWorld"),
    "get_profile": ("harness.profiles", "get"),
    "record": ("harness.recording", "record"),
    "SpecialistVAE": ("specialists.vae", "SpecialistVAE"),
    "AgentVideoWorld": ("worlds.video", "AgentVideoWorld"),
}

__all__ = [*_NAMES, *_SUBMODULES, "__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        value = import_module(f".{_SUBMODULES[name]}", __name__)
    elif name in _NAMES:
        module, attribute = _NAMES[name]
        value = getattr(import_module(f".{module}", __name__), attribute)
    else:
        raise AttributeError(f"module 'specbook' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted({*globals(), *__all__})
