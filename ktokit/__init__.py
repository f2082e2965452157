"""ktokit: KTO preference datasets and models, one language at a time."""

__version__ = "0.1.0"
