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

#: Submodules reachable as attributes (``specbook.theory``) without importing them first.
_SUBMODULES = ("cats", "editing", "encoders", "gan", "identifiability", "latent", "metrics", "pixels", "profiles",
               "theory", "video")

#: Public name -> (module, attribute in it).
_NAMES = {
    "CatRenderer": ("cats", "CatRenderer"),
    "ci_test": ("citests", "ci_test"),
    "get_ci_test": ("citests", "get_ci_test"),
    "ColliderWorld": ("collider", "ColliderWorld"),
    "WorldSample": ("collider", "WorldSample"),
    "FrameVAE": ("encoders", "FrameVAE"),
    "TaskDiscovery": ("discovery", "TaskDiscovery"),
    "band_set": ("discovery", "band_set"),
    "discover_tasks": ("discovery", "discover_tasks"),
    "oracle_tasks": ("discovery", "oracle_tasks"),
    "SpecialistGAN": ("gan", "SpecialistGAN"),
    "LatentSample": ("latent", "LatentSample"),
    "TaskLatentWorld": ("latent", "TaskLatentWorld"),
    "get_profile": ("profiles", "get"),
    "record": ("recording", "record"),
    "SpecialistVAE": ("vae", "SpecialistVAE"),
    "AgentVideoWorld": ("video", "AgentVideoWorld"),
}

__all__ = [*_NAMES, *_SUBMODULES, "__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        value = import_module(f".{name}", __name__)
    elif name in _NAMES:
        module, attribute = _NAMES[name]
        value = getattr(import_module(f".{module}", __name__), attribute)
    else:
        raise AttributeError(f"module 'specbook' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted({*globals(), *__all__})
