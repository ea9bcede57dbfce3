"""earful nlp package."""
