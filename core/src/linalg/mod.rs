//! Encrypted matrices: block encoding, `diag_abt` (A B^T), `diag_atb` (A^T B), masks, rotation plans.
