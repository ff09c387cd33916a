//! Arbitrary bytes into `codec::decode_params`: an error or a 128-bit-secure parameter
//! set that re-encodes to the same bytes; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = hetal_core::codec::decode_params(data) {
        assert!(p.is_secure());
        assert_eq!(hetal_core::codec::encode_params(&p), data);
    }
});
