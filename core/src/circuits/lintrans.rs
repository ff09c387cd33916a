//! Plaintext-diagonal matrix times slot vector (baby-step giant-step with hoisted rotations).
