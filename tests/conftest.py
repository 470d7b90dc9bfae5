"""Shared fixtures. Every process a test starts is stopped by the fixture that started it."""
