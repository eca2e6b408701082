"""Feeds: definitions (spec), the neutral document, RSS/Atom/JSON writers, build, checks."""
