"""Digests: choose an edition's stories, render it once, personalize and assemble per subscriber."""
