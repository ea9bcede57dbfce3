"""earful listeners package."""
