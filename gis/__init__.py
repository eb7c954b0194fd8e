"""Spatial and persistent side of the register: PostGIS, files, maps, reports and the CLI."""
