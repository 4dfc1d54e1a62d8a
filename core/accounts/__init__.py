"""Accounts: registration, password sign-in with a lockout, admin rights, profiles and avatars."""
