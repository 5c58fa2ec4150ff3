"""specbook: the executable companion to "From Generalist to Specialist Representation"."""
from importlib.metadata import PackageNotFoundError, version as _version

from . import profiles
from .collider import ColliderWorld, WorldSample
from .profiles import get as get_profile
from .recording import record

try:
    __version__ = _version("specbook")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["ColliderWorld", "WorldSample", "profiles", "get_profile", "record", "__version__"]
