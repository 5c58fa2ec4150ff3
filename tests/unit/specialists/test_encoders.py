import numpy as np
import pytest

from specbook.specialists.encoders import FrameVAE, frame_pca
from specbook.worlds.video import AgentVideoWorld


@pytest.fixture(scope="module")
def video():
    return AgentVideoWorld(T=4, M=1, n_agents=1, size=16, seed=0).sample(12, seed=1)


@pytest.mark.parametrize("prior", ["independent", "temporal"])
def test_frame_vae_fits_encodes_and_is_deterministic(video, prior):
    options = dict(n_latents=2, prior=prior, n_static=3, width=4, epochs=2, progress=False, seed=3)
    a = FrameVAE(**options).fit(video.frames)
    b = FrameVAE(**options).fit(video.frames)
    z = a.transform(video.frames)
    assert z.shape == (12, 4, 2) and np.isfinite(z).all()
    assert np.array_equal(z, b.transform(video.frames))
    assert len(a.history_) == 2 and set(a.history_[0]) == {"loss", "reconstruction", "kl"}
    assert a.reconstruct(video.frames[:2]).shape == video.frames[:2].shape
    c = FrameVAE(**{**options, "seed": 4}).fit(video.frames)
    assert not np.array_equal(z, c.transform(video.frames))


def test_frame_vae_without_static_latent(video):
    model = FrameVAE(n_latents=2, n_static=0, width=4, epochs=1, progress=False).fit(video.frames)
    assert model.transform(video.frames).shape == (12, 4, 2)


def test_frame_vae_bad_input(video):
    with pytest.raises(ValueError, match="prior must be one of"):
        FrameVAE(prior="markov")
    with pytest.raises(ValueError, match="beta must be"):
        FrameVAE(beta=-1)
    with pytest.raises(ValueError, match="learning_rate must be a finite real number > 0"):
        FrameVAE(learning_rate=0)
    with pytest.raises(ValueError, match="not fitted yet"):
        FrameVAE().transform(video.frames)
    with pytest.raises(ValueError, match="at least 2 frames"):
        FrameVAE(prior="temporal", width=4, epochs=1, progress=False).fit(video.frames[:, :1])
    model = FrameVAE(n_latents=2, width=4, epochs=1, progress=False).fit(video.frames)
    bigger = AgentVideoWorld(T=4, M=1, n_agents=1, size=24, seed=0).sample(2, seed=1).frames
    with pytest.raises(ValueError, match="fitted on 16 x 16 frames"):
        model.transform(bigger)
    with pytest.raises(ValueError, match="multiple of 8"):
        model.fit(np.zeros((2, 4, 3, 20, 20)))


def test_frame_pca(video):
    features = frame_pca(video.frames, 3, seed=0)
    assert features.shape == (12, 4, 3)
    assert np.array_equal(features, frame_pca(video.frames, 3, seed=0))
    with pytest.raises(ValueError, match="n_components must be at most"):
        frame_pca(video.frames[:1, :2], 5)
