"""The web app: the built feeds with conditional GET, and the subscriber pages."""
