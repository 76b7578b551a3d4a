//! Seccomp allowlist (filled in with the confinement step).
