//! Polynomial evaluation on slot values (power and Chebyshev bases, baby-step giant-step).
