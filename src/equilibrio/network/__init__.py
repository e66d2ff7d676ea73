"""The audience interaction network: communities, roles and shape."""
