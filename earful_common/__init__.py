"""The lowest layer: what every package may import (it imports nothing of the project)."""
