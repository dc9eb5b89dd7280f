"""Developer commands beside the application: `make diagrams` (render_diagrams.py)."""
