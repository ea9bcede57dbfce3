"""earful indexer package."""
