"""The project directory: its settings (syndicate.toml), schedules, the secret key, slot
arithmetic, and the starter that `syndicate init` writes."""
