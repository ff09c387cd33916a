//! Vector kernels for hetal: modular arithmetic and negacyclic NTTs over `&[u64]`.
//!
//! `#![no_std]` and allocation-free. One kernel set in four backends:
//!
//! * `scalar`: portable reference, always built;
//! * `avx2` (feature `avx2`, x86_64);
//!
//! SIMD backends are compiled only where the target has vector registers
//! (`target_feature = "sse2"`): soft-float targets such as `x86_64-unknown-none`
//! (kernels, where vector state is not saved) get the scalar backend alone.
//!
//! * `avx512` (feature `avx512`, x86_64): AVX-512F/DQ/VL, plus an IFMA (`vpmadd52`)
//!   path for primes below 2^50 when the CPU has AVX-512 IFMA;
//! * `neon` (feature `neon`, aarch64).
//!
//! A [`Kernels`] value can only be built for a backend the running CPU supports, which
//! is what makes its safe methods sound. [`Kernels::best`] detects once at run time
//! (through `cpufeatures`, which works without `std`); a `no_std` user can pin a
//! backend by enabling only its feature, or with [`Kernels::new`].
//!
//! ```
//! use hetal_simd::{Kernels, NttTable, fill_table, table_len};
//!
//! // q = 12289 = 1 (mod 2n) for n = 1024; psi = 10302 is a primitive 2048-th root.
//! let (q, n) = (12289u64, 1024usize);
//! let psi = (2..q).map(|g| pow(g, (q - 1) / 2048, q)).find(|&r| pow(r, 1024, q) == q - 1).unwrap();
//! let mut buf = vec![0u64; table_len(n)];
//! fill_table(q, psi, n, &mut buf).unwrap();
//! let table = NttTable::new(q, n, &buf).unwrap();
//!
//! let k = Kernels::best();
//! let x: Vec<u64> = (0..n as u64).map(|i| i * 7 % q).collect();
//! let mut y = x.clone();
//! k.ntt_forward(&table, &mut y);
//! k.ntt_inverse(&table, &mut y);
//! assert_eq!(x, y);
//! # fn pow(mut b: u64, mut e: u64, q: u64) -> u64 {
//! #     let mut r = 1; while e > 0 { if e & 1 == 1 { r = r * b % q; } b = b * b % q; e >>= 1; } r
//! # }
//! ```
#![no_std]
#![deny(missing_docs)]

pub mod chacha;
mod modulus;
pub mod scalar;
mod table;

#[cfg(all(feature = "avx2", target_arch = "x86_64", target_feature = "sse2"))]
pub mod avx2;
#[cfg(all(feature = "avx512", target_arch = "x86_64", target_feature = "sse2"))]
pub mod avx512;
#[cfg(all(feature = "neon", target_arch = "aarch64", target_feature = "neon"))]
pub mod neon;

pub use modulus::{ModulusConsts, ShoupConst, shoup52, shoup64};
pub use table::{MAX_LOG_N, MIN_LOG_N, NttTable, TableError, bitrev, fill_table, table_len};

/// A kernel backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Portable scalar code (the reference).
    Scalar,
    /// AVX2 (x86_64).
    Avx2,
    /// AVX-512 F/DQ/VL with 64-bit arithmetic only (x86_64).
    Avx512,
    /// AVX-512 with IFMA 52-bit multiplies for primes below 2^50; other primes take
    /// the [`Backend::Avx512`] path (x86_64).
    Avx512Ifma,
    /// NEON (aarch64).
    Neon,
}

impl Backend {
    /// Every backend, in order of preference (best last).
    pub const ALL: [Backend; 5] = [
        Backend::Scalar,
        Backend::Neon,
        Backend::Avx2,
        Backend::Avx512,
        Backend::Avx512Ifma,
    ];

    /// Short lower-case name, used in benchmark ids and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Scalar => "scalar",
            Backend::Avx2 => "avx2",
            Backend::Avx512 => "avx512",
            Backend::Avx512Ifma => "avx512ifma",
            Backend::Neon => "neon",
        }
    }

    /// Whether this backend was compiled in (its cargo feature and target architecture).
    pub const fn is_compiled(self) -> bool {
        match self {
            Backend::Scalar => true,
            Backend::Avx2 => cfg!(all(
                feature = "avx2",
                target_arch = "x86_64",
                target_feature = "sse2"
            )),
            Backend::Avx512 | Backend::Avx512Ifma => {
                cfg!(all(
                    feature = "avx512",
                    target_arch = "x86_64",
                    target_feature = "sse2"
                ))
            }
            Backend::Neon => cfg!(all(
                feature = "neon",
                target_arch = "aarch64",
                target_feature = "neon"
            )),
        }
    }

    /// Whether this backend is compiled in and the running CPU supports it.
    pub fn is_supported(self) -> bool {
        self.is_compiled() && cpu::has(self)
    }

    /// Why this backend cannot run here, or `None` if it can (for skip messages).
    pub fn unsupported_reason(self) -> Option<&'static str> {
        if !self.is_compiled() {
            Some("not compiled in (cargo feature off or other target architecture)")
        } else if !cpu::has(self) {
            Some(match self {
                Backend::Avx2 => "CPU lacks AVX2",
                Backend::Avx512 => "CPU lacks AVX-512 F/DQ/VL/BW",
                Backend::Avx512Ifma => "CPU lacks AVX-512 IFMA (or F/DQ/VL/BW)",
                Backend::Neon => "CPU lacks NEON",
                Backend::Scalar => "unreachable",
            })
        } else {
            None
        }
    }
}

mod cpu {
    use super::Backend;

    #[cfg(target_arch = "x86_64")]
    cpufeatures::new!(has_avx2, "avx2");
    #[cfg(target_arch = "x86_64")]
    cpufeatures::new!(has_avx512, "avx512f", "avx512dq", "avx512vl", "avx512bw");
    #[cfg(target_arch = "x86_64")]
    cpufeatures::new!(
        has_avx512ifma,
        "avx512f",
        "avx512dq",
        "avx512vl",
        "avx512bw",
        "avx512ifma"
    );

    pub(crate) fn has(b: Backend) -> bool {
        match b {
            Backend::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => has_avx2::get(),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => has_avx512::get(),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512Ifma => has_avx512ifma::get(),
            // NEON is mandatory on aarch64.
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

/// Handle to one backend's kernels. Only constructible for a backend the running CPU
/// supports, so every method is safe to call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernels {
    backend: Backend,
}

impl Kernels {
    /// The kernels of `backend`, or `None` if it is not compiled in or this CPU lacks it.
    pub fn new(backend: Backend) -> Option<Self> {
        backend.is_supported().then_some(Self { backend })
    }

    /// The scalar reference kernels (always available).
    pub const fn scalar() -> Self {
        Self {
            backend: Backend::Scalar,
        }
    }

    /// The fastest backend this CPU supports, detected once.
    pub fn best() -> Self {
        use core::sync::atomic::{AtomicU8, Ordering};
        static BEST: AtomicU8 = AtomicU8::new(u8::MAX);
        let cached = BEST.load(Ordering::Relaxed);
        let idx = if (cached as usize) < Backend::ALL.len() {
            cached as usize
        } else {
            let i = Backend::ALL
                .iter()
                .rposition(|b| b.is_supported())
                .unwrap_or(0);
            BEST.store(i as u8, Ordering::Relaxed);
            i
        };
        Self {
            backend: Backend::ALL[idx],
        }
    }

    /// Which backend these kernels run.
    pub const fn backend(&self) -> Backend {
        self.backend
    }
}

/// Dispatches a kernel call to the backend module. SIMD backend functions are
/// `#[target_feature]` functions; calling them is sound because a `Kernels` value only
/// exists for a backend whose features the CPU has (checked in [`Kernels::new`]).
macro_rules! dispatch {
    ($self:ident, $f:ident($($arg:expr),*)) => {
        match $self.backend {
            #[cfg(all(feature = "avx2", target_arch = "x86_64", target_feature = "sse2"))]
            // SAFETY: `Kernels` for Avx2 is only built when the CPU has AVX2.
            Backend::Avx2 => unsafe { avx2::$f($($arg),*) },
            #[cfg(all(feature = "avx512", target_arch = "x86_64", target_feature = "sse2"))]
            // SAFETY: `Kernels` for Avx512 is only built when the CPU has AVX-512 F/DQ/VL/BW.
            Backend::Avx512 => unsafe { avx512::$f($($arg),*) },
            #[cfg(all(feature = "avx512", target_arch = "x86_64", target_feature = "sse2"))]
            // SAFETY: `Kernels` for Avx512Ifma is only built when the CPU also has IFMA.
            Backend::Avx512Ifma => unsafe { avx512::ifma::$f($($arg),*) },
            #[cfg(all(feature = "neon", target_arch = "aarch64", target_feature = "neon"))]
            // SAFETY: NEON is mandatory on aarch64.
            Backend::Neon => unsafe { neon::$f($($arg),*) },
            _ => scalar::$f($($arg),*),
        }
    };
}

#[inline]
fn check_len(what: &str, a: usize, b: usize) {
    assert!(a == b, "{what}: slice lengths differ ({a} vs {b})");
}

impl Kernels {
    /// Forward negacyclic NTT in place: natural-order input in `[0, q)`, bit-reversed
    /// output in `[0, q)`. Panics if `a.len() != table.n()`.
    pub fn ntt_forward(&self, table: &NttTable, a: &mut [u64]) {
        check_len("ntt_forward", a.len(), table.n());
        dispatch!(self, ntt_forward(table, a))
    }

    /// Inverse negacyclic NTT in place, including the `n^-1` factor: bit-reversed input
    /// in `[0, q)`, natural-order output in `[0, q)`.
    pub fn ntt_inverse(&self, table: &NttTable, a: &mut [u64]) {
        check_len("ntt_inverse", a.len(), table.n());
        dispatch!(self, ntt_inverse(table, a))
    }

    /// `a[i] = (a[i] + b[i]) mod q`.
    pub fn add_assign(&self, a: &mut [u64], b: &[u64], q: u64) {
        check_len("add_assign", a.len(), b.len());
        dispatch!(self, add_assign(a, b, q))
    }

    /// `a[i] = (a[i] - b[i]) mod q`.
    pub fn sub_assign(&self, a: &mut [u64], b: &[u64], q: u64) {
        check_len("sub_assign", a.len(), b.len());
        dispatch!(self, sub_assign(a, b, q))
    }

    /// `a[i] = -a[i] mod q`.
    pub fn neg_assign(&self, a: &mut [u64], q: u64) {
        dispatch!(self, neg_assign(a, q))
    }

    /// `a[i] = a[i] * b[i] mod q`.
    pub fn mul_assign(&self, a: &mut [u64], b: &[u64], m: &ModulusConsts) {
        check_len("mul_assign", a.len(), b.len());
        dispatch!(self, mul_assign(a, b, m))
    }

    /// `acc[i] = (acc[i] + a[i] * b[i]) mod q`.
    pub fn mul_add_assign(&self, acc: &mut [u64], a: &[u64], b: &[u64], m: &ModulusConsts) {
        check_len("mul_add_assign", acc.len(), a.len());
        check_len("mul_add_assign", acc.len(), b.len());
        dispatch!(self, mul_add_assign(acc, a, b, m))
    }

    /// `a[i] = a[i] * c.w mod q` with the Shoup constant of `c` (inputs any `u64`).
    pub fn mul_scalar_assign(&self, a: &mut [u64], c: &ShoupConst, q: u64) {
        dispatch!(self, mul_scalar_assign(a, c, q))
    }

    /// `acc[i] = (acc[i] + a[i] * c.w) mod q` (`a[i]` any `u64`, `acc[i] < q`).
    pub fn mul_scalar_add_assign(&self, acc: &mut [u64], a: &[u64], c: &ShoupConst, q: u64) {
        check_len("mul_scalar_add_assign", acc.len(), a.len());
        dispatch!(self, mul_scalar_add_assign(acc, a, c, q))
    }

    /// `a[i] = a[i] mod q` for any `a[i]`.
    pub fn reduce_assign(&self, a: &mut [u64], m: &ModulusConsts) {
        dispatch!(self, reduce_assign(a, m))
    }

    /// `a[i] in [0, 2q)` becomes `a[i] mod q`.
    pub fn reduce_from_2q(&self, a: &mut [u64], q: u64) {
        dispatch!(self, reduce_from_2q(a, q))
    }

    /// `out[c] = sum_j a[j][c] * b[j][c] mod q`, every input below `q` (a lazy dot
    /// product: on the IFMA backend with `q < 2^50` the products are accumulated
    /// unreduced and reduced once per output; on AVX-512 for larger primes the sum stays
    /// in a register; elsewhere it is `mul_add_assign` per term).
    /// Panics if an input is shorter than `out`.
    pub fn dot_product(&self, out: &mut [u64], a: &[&[u64]], b: &[&[u64]], m: &ModulusConsts) {
        check_len("dot_product", a.len(), b.len());
        assert!(
            a.iter().chain(b).all(|s| s.len() >= out.len()),
            "dot_product: input shorter than output"
        );
        match self.backend {
            #[cfg(all(feature = "avx512", target_arch = "x86_64", target_feature = "sse2"))]
            // SAFETY: `Kernels` for Avx512Ifma is only built when the CPU has IFMA.
            Backend::Avx512Ifma if m.is_ifma_friendly() => unsafe {
                avx512::ifma::dot_product(out, a, b, m)
            },
            #[cfg(all(feature = "avx512", target_arch = "x86_64", target_feature = "sse2"))]
            // SAFETY: `Kernels` for either AVX-512 backend is only built when the CPU has
            // AVX-512 F/DQ/VL/BW.
            Backend::Avx512 | Backend::Avx512Ifma => unsafe { avx512::dot_product(out, a, b, m) },
            _ => {
                out.fill(0);
                for (x, y) in a.iter().zip(b) {
                    self.mul_add_assign(out, &x[..out.len()], &y[..out.len()], m);
                }
            }
        }
    }

    /// Two dot products sharing `a`: `out0 = sum_j a[j] b0[j]`, `out1 = sum_j a[j] b1[j]`
    /// mod `q` (inputs below `q`). This is the key-switching inner product (digits times
    /// the two key halves), which reads each digit once.
    pub fn dot_product2(
        &self,
        out0: &mut [u64],
        out1: &mut [u64],
        a: &[&[u64]],
        b0: &[&[u64]],
        b1: &[&[u64]],
        m: &ModulusConsts,
    ) {
        check_len("dot_product2", out0.len(), out1.len());
        check_len("dot_product2", a.len(), b0.len());
        check_len("dot_product2", a.len(), b1.len());
        match self.backend {
            #[cfg(all(feature = "avx512", target_arch = "x86_64", target_feature = "sse2"))]
            Backend::Avx512Ifma if m.is_ifma_friendly() => {
                assert!(
                    a.iter().chain(b0).chain(b1).all(|s| s.len() >= out0.len()),
                    "dot_product2: input shorter than output"
                );
                // SAFETY: `Kernels` for Avx512Ifma is only built when the CPU has IFMA.
                unsafe { avx512::ifma::dot_product2(out0, out1, a, b0, b1, m) }
            }
            #[cfg(all(feature = "avx512", target_arch = "x86_64", target_feature = "sse2"))]
            Backend::Avx512 | Backend::Avx512Ifma => {
                assert!(
                    a.iter().chain(b0).chain(b1).all(|s| s.len() >= out0.len()),
                    "dot_product2: input shorter than output"
                );
                // SAFETY: `Kernels` for either AVX-512 backend is only built when the CPU
                // has AVX-512 F/DQ/VL/BW.
                unsafe { avx512::dot_product2(out0, out1, a, b0, b1, m) }
            }
            _ => {
                self.dot_product(out0, a, b0, m);
                self.dot_product(out1, a, b1, m);
            }
        }
    }

    /// `out[c] = sum_j a[j][c] * w[j].w mod q` (`a[j][c]` any value, `w[j].w < q`): the
    /// accumulation step of a fast base conversion, reduced once per output on the IFMA
    /// backend (`q < 2^50`), kept in a register on AVX-512 for larger primes. Panics if
    /// an input is shorter than `out`.
    pub fn dot_scalar(&self, out: &mut [u64], a: &[&[u64]], w: &[ShoupConst], q: u64) {
        check_len("dot_scalar", a.len(), w.len());
        assert!(
            a.iter().all(|s| s.len() >= out.len()),
            "dot_scalar: input shorter than output"
        );
        match self.backend {
            #[cfg(all(feature = "avx512", target_arch = "x86_64", target_feature = "sse2"))]
            // SAFETY: `Kernels` for Avx512Ifma is only built when the CPU has IFMA.
            Backend::Avx512Ifma if q < 1 << 50 => unsafe { avx512::ifma::dot_scalar(out, a, w, q) },
            #[cfg(all(feature = "avx512", target_arch = "x86_64", target_feature = "sse2"))]
            // SAFETY: `Kernels` for either AVX-512 backend is only built when the CPU has
            // AVX-512 F/DQ/VL/BW.
            Backend::Avx512 | Backend::Avx512Ifma => unsafe { avx512::dot_scalar(out, a, w, q) },
            _ => {
                out.fill(0);
                for (x, c) in a.iter().zip(w) {
                    self.mul_scalar_add_assign(out, &x[..out.len()], c, q);
                }
            }
        }
    }

    /// `out[i] = a[perm[i]]`; with [`automorphism_ntt_perm`] this is an automorphism in
    /// NTT form. Panics if an index is out of range.
    pub fn permute(&self, a: &[u64], perm: &[u32], out: &mut [u64]) {
        check_len("permute", perm.len(), out.len());
        // Every backend checks each index before it reads (the scalar code by indexing,
        // AVX-512 before each gather), so no separate pass over `perm` here: a key
        // switch permutes hundreds of limbs.
        dispatch!(self, permute(a, perm, out))
    }

    /// Rejection sampling below `q`: consecutive word pairs read as
    /// `(w0 | w1 << 32) & mask`, values below `q` written to `out` in order until it is
    /// full; returns how many were written (see [`scalar::sample_below`]). Same output on
    /// every backend.
    pub fn sample_below(&self, words: &[u32], mask: u64, q: u64, out: &mut [u64]) -> usize {
        dispatch!(self, sample_below(words, mask, q, out))
    }

    /// ChaCha keystream (`double_rounds` double rounds, 64-bit block counter and nonce)
    /// for `out.len() / 256` groups of 16 blocks from block `counter` on, in the
    /// word-major group order of [`chacha`]. Panics unless `out.len()` is a multiple
    /// of [`chacha::GROUP_WORDS`]. Same output on every backend.
    pub fn chacha_groups(
        &self,
        key: &[u32; 8],
        nonce: u64,
        counter: u64,
        double_rounds: u32,
        out: &mut [u32],
    ) {
        assert!(
            out.len().is_multiple_of(chacha::GROUP_WORDS),
            "chacha_groups: length must be a multiple of 256 words"
        );
        match self.backend {
            #[cfg(all(feature = "avx512", target_arch = "x86_64", target_feature = "sse2"))]
            // SAFETY: `Kernels` for Avx512 / Avx512Ifma is only built when the CPU has AVX-512F.
            Backend::Avx512 | Backend::Avx512Ifma => unsafe {
                chacha::avx512::groups(key, nonce, counter, double_rounds, out)
            },
            #[cfg(all(feature = "avx2", target_arch = "x86_64", target_feature = "sse2"))]
            // SAFETY: `Kernels` for Avx2 is only built when the CPU has AVX2.
            Backend::Avx2 => unsafe {
                chacha::avx2::groups(key, nonce, counter, double_rounds, out)
            },
            _ => chacha::groups(key, nonce, counter, double_rounds, out),
        }
    }

    /// `out(X) = a(X^g) mod (X^n + 1, q)` in coefficient form; `g` odd.
    pub fn automorphism_coeff(&self, a: &[u64], g: usize, out: &mut [u64], q: u64) {
        check_len("automorphism_coeff", a.len(), out.len());
        assert!(
            g % 2 == 1,
            "automorphism_coeff: the Galois element must be odd"
        );
        dispatch!(self, automorphism_coeff(a, g % (2 * a.len()), out, q))
    }
}

/// Fills `perm` so that [`Kernels::permute`] applies `X -> X^g` (odd `g`) to a polynomial
/// in this crate's bit-reversed NTT order. `perm.len()` is the ring degree `n`.
///
/// Slot `j` of a forward NTT holds the evaluation at `psi^(2 bitrev(j) + 1)`; the
/// automorphism sends it to the evaluation at `psi^(g (2 bitrev(j) + 1))`.
pub fn automorphism_ntt_perm(g: usize, perm: &mut [u32]) {
    let n = perm.len();
    assert!(
        n.is_power_of_two() && g % 2 == 1,
        "automorphism_ntt_perm: n power of two, g odd"
    );
    let log_n = n.trailing_zeros();
    let mask = 2 * n - 1;
    for (j, p) in perm.iter_mut().enumerate() {
        let e = ((2 * bitrev(j, log_n) + 1) * (g & mask)) & mask;
        *p = bitrev((e - 1) / 2, log_n) as u32;
    }
}
