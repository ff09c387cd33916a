//! Bytes into `codec::decode_evaluation_keys` (insecure N = 2^11 test context), raw or as edits
//! of a valid encoding: an error or a valid object that re-encodes to the same bytes,
//! never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let bytes = common::input(data, &common::valid().evk);
    if let Ok(v) = hetal_core::codec::decode_evaluation_keys(common::ctx(), &bytes) {
        assert_eq!(
            hetal_core::codec::encode_evaluation_keys(common::ctx(), &v),
            bytes
        );
    }
});
