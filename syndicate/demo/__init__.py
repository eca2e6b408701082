"""The bundled sample news site that `syndicate demo` gathers, with its ground truth."""
