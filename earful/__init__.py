"""earful earful package."""
