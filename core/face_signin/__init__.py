"""Face sign-in: enrolling samples, and the live decision (votes, liveness, lockout)."""
