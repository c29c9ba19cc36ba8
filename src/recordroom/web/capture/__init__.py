"""Capture pages: the indexing queue, misfile moves and reviews, cover sheets, the capture dashboard."""
