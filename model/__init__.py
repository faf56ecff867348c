"""The model: the world, natural selection, and measurement."""
