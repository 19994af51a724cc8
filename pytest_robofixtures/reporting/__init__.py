"""Report building blocks: timeline pictures, measurements, pytest-html snippets (no pytest)."""
