//! NEON backend (stub).
#![allow(missing_docs, clippy::missing_safety_doc)]
use crate::modulus::{ModulusConsts, ShoupConst};
use crate::scalar;
use crate::table::NttTable;

// TEMPORARY forwarding stubs: replaced by real kernels (same signatures).
pub unsafe fn ntt_forward(t: &NttTable, a: &mut [u64]) {
    scalar::ntt_forward(t, a)
}
pub unsafe fn ntt_inverse(t: &NttTable, a: &mut [u64]) {
    scalar::ntt_inverse(t, a)
}
pub unsafe fn add_assign(a: &mut [u64], b: &[u64], q: u64) {
    scalar::add_assign(a, b, q)
}
pub unsafe fn sub_assign(a: &mut [u64], b: &[u64], q: u64) {
    scalar::sub_assign(a, b, q)
}
pub unsafe fn neg_assign(a: &mut [u64], q: u64) {
    scalar::neg_assign(a, q)
}
pub unsafe fn mul_assign(a: &mut [u64], b: &[u64], m: &ModulusConsts) {
    scalar::mul_assign(a, b, m)
}
pub unsafe fn mul_add_assign(acc: &mut [u64], a: &[u64], b: &[u64], m: &ModulusConsts) {
    scalar::mul_add_assign(acc, a, b, m)
}
pub unsafe fn mul_scalar_assign(a: &mut [u64], c: &ShoupConst, q: u64) {
    scalar::mul_scalar_assign(a, c, q)
}
pub unsafe fn mul_scalar_add_assign(acc: &mut [u64], a: &[u64], c: &ShoupConst, q: u64) {
    scalar::mul_scalar_add_assign(acc, a, c, q)
}
pub unsafe fn reduce_assign(a: &mut [u64], m: &ModulusConsts) {
    scalar::reduce_assign(a, m)
}
pub unsafe fn reduce_from_2q(a: &mut [u64], q: u64) {
    scalar::reduce_from_2q(a, q)
}
pub unsafe fn permute(a: &[u64], perm: &[u32], out: &mut [u64]) {
    scalar::permute(a, perm, out)
}
pub unsafe fn automorphism_coeff(a: &[u64], g: usize, out: &mut [u64], q: u64) {
    scalar::automorphism_coeff(a, g, out, q)
}
