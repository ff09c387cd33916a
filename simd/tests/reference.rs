//! The scalar reference against definitions: the NTT product equals the schoolbook
//! negacyclic product, and the NTT-form automorphism equals the coefficient-form one.
use hetal_simd::{Kernels, NttTable, automorphism_ntt_perm, fill_table, table_len};

fn pow(mut b: u64, mut e: u64, q: u64) -> u64 {
    let mut r = 1u64;
    while e > 0 {
        if e & 1 == 1 {
            r = (r as u128 * b as u128 % q as u128) as u64;
        }
        b = (b as u128 * b as u128 % q as u128) as u64;
        e >>= 1;
    }
    r
}

fn root(q: u64, n: usize) -> u64 {
    (2..q)
        .map(|g| pow(g, (q - 1) / (2 * n as u64), q))
        .find(|&r| pow(r, n as u64, q) == q - 1)
        .unwrap()
}

fn table(q: u64, n: usize) -> Vec<u64> {
    let mut buf = vec![0; table_len(n)];
    fill_table(q, root(q, n), n, &mut buf).unwrap();
    buf
}

fn lcg(seed: &mut u64, q: u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (((*seed >> 11) as u128 * q as u128) >> 53) as u64
}

// Primes = 1 mod 2^18: 12289, the largest below 2^50 and the largest below 2^62.
const PRIMES: [u64; 3] = [12289, 1125899902124033, 4611686018425815041];

#[test]
fn ntt_product_matches_schoolbook() {
    let k = Kernels::scalar();
    for &q in &PRIMES {
        for n in [2usize, 4, 16, 64] {
            if (q - 1) % (2 * n as u64) != 0 {
                continue;
            }
            let buf = table(q, n);
            let t = NttTable::new(q, n, &buf).unwrap();
            let mut s = q ^ n as u64;
            let a: Vec<u64> = (0..n).map(|_| lcg(&mut s, q)).collect();
            let b: Vec<u64> = (0..n).map(|_| lcg(&mut s, q)).collect();
            let mut want = vec![0u64; n];
            for (i, &ai) in a.iter().enumerate() {
                for (j, &bj) in b.iter().enumerate() {
                    let p = (ai as u128 * bj as u128 % q as u128) as u64;
                    let idx = (i + j) % n;
                    want[idx] = if i + j < n {
                        (want[idx] + p) % q
                    } else {
                        (want[idx] + q - p) % q
                    };
                }
            }
            let (mut fa, mut fb) = (a.clone(), b.clone());
            k.ntt_forward(&t, &mut fa);
            k.ntt_forward(&t, &mut fb);
            k.mul_assign(&mut fa, &fb, &hetal_simd::ModulusConsts::new(q).unwrap());
            k.ntt_inverse(&t, &mut fa);
            assert_eq!(fa, want, "q={q} n={n}");
        }
    }
}

#[test]
fn ntt_automorphism_matches_coefficient_form() {
    let k = Kernels::scalar();
    let (q, n) = (PRIMES[1], 256usize);
    let buf = table(q, n);
    let t = NttTable::new(q, n, &buf).unwrap();
    let mut s = 7;
    let a: Vec<u64> = (0..n).map(|_| lcg(&mut s, q)).collect();
    for g in [1usize, 3, 5, 25, 2 * n - 1] {
        let mut want = vec![0; n];
        k.automorphism_coeff(&a, g, &mut want, q);
        k.ntt_forward(&t, &mut want);
        let mut fa = a.clone();
        k.ntt_forward(&t, &mut fa);
        let mut perm = vec![0u32; n];
        automorphism_ntt_perm(g, &mut perm);
        let mut got = vec![0; n];
        k.permute(&fa, &perm, &mut got);
        assert_eq!(got, want, "g={g}");
    }
}
