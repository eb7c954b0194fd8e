"""Scoring methods: pure functions from plain inputs to scores with their explanation."""
