"""Layer 2: specialist representations (masked task heads, the VAE, the GAN, the video encoders, identifiability,
editing)."""
