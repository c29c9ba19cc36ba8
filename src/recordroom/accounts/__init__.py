"""Accounts: users, roles (Django groups), facility scope, TOTP second factor, API tokens.

Other apps use: `roles.ROLES`, `services.*`, `models.User`.
"""
