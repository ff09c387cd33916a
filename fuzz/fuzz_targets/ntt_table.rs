//! Arbitrary (q, psi, n) into the NTT table builder and view: errors only, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u64, u64, u8)| {
    let (q, psi, log_n) = input;
    let n = 1usize.checked_shl(u32::from(log_n % 20)).unwrap_or(1);
    let mut buf = vec![0u64; hetal_simd::table_len(n)];
    if hetal_simd::fill_table(q, psi, n, &mut buf).is_ok() {
        let table = hetal_simd::NttTable::new(q, n, &buf).expect("a filled table is valid");
        let mut a: Vec<u64> = (0..n as u64).map(|i| i % q).collect();
        let k = hetal_simd::Kernels::best();
        k.ntt_forward(&table, &mut a);
        k.ntt_inverse(&table, &mut a);
        assert!(
            a.iter().enumerate().all(|(i, &v)| v == i as u64 % q),
            "round trip"
        );
    }
    let _ = hetal_simd::NttTable::new(q, n, &buf[..buf.len() / 2]);
});
