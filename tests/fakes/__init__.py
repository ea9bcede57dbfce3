"""Fake platform APIs for tests: the demo's replay APIs made scriptable (tests/fakes/scripted.py), plus item builders."""
