"""syndicate: gather a news site's stories and cross-links; build feeds and digests."""

__version__ = "0.1.0"
