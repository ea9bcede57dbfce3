"""Fake Reddit and X APIs for tests (built on the package's replay servers, plus item builders)."""
