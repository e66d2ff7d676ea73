"""The web app: ``equilibrio serve --db brand.duckdb`` (see :mod:`equilibrio.app.server`)."""

from equilibrio.app.server import create_app, serve, serve_in_background

__all__ = ["create_app", "serve", "serve_in_background"]
