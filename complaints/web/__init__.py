"""The review web app: server-rendered pages for quality staff (FastAPI + Jinja2, no JavaScript)."""
