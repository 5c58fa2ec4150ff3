"""specbook: the executable companion to "From Generalist to Specialist Representation"."""
from importlib.metadata import PackageNotFoundError, version as _version

from . import cats, editing, encoders, gan, identifiability, latent, metrics, pixels, profiles, theory, video
from .cats import CatRenderer
from .citests import ci_test, get_ci_test
from .collider import ColliderWorld, WorldSample
from .encoders import FrameVAE
from .discovery import TaskDiscovery, band_set, discover_tasks, oracle_tasks
from .gan import SpecialistGAN
from .latent import LatentSample, TaskLatentWorld
from .profiles import get as get_profile
from .recording import record
from .vae import SpecialistVAE
from .video import AgentVideoWorld

try:
    __version__ = _version("specbook")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "ColliderWorld", "WorldSample", "TaskLatentWorld", "LatentSample", "SpecialistVAE", "SpecialistGAN", "CatRenderer",
    "AgentVideoWorld", "FrameVAE", "TaskDiscovery", "band_set", "ci_test", "discover_tasks", "get_ci_test",
    "oracle_tasks", "cats", "editing", "encoders", "gan", "identifiability", "latent", "metrics", "pixels", "profiles",
    "theory", "video", "get_profile", "record", "__version__",
]
