"""CJK font embedded in generated PDFs (see README.md here)."""
