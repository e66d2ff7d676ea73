"""Rendering: HTML pages built from the tables and figures of the layers below."""
