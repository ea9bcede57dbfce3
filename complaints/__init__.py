"""earful complaints package."""
