"""The package version (pyproject.toml's), in a module of its own so that `io` can read it without importing the
package root, whose `wrap` imports the models."""

__version__ = "0.1.0"
