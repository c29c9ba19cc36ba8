"""Kernel: errors, Actor, ids, crypto, blob store, sensitivity labels, action registry.

Nothing here defines Django models; every other app may import from it.
"""
