"""earful alerts package."""
