"""Annotation formats: import into a Draft version and export from any version (docs/formats.md)."""
