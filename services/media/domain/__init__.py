"""Evidence checks and fingerprints: sniffing, limits, image/video inspection, links.

Plain functions and models only; see docs/media.md for the pipeline and refusal codes.
"""
