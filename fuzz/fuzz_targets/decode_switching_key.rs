//! Bytes into `codec::decode_switching_key` (insecure N = 2^11 test context), raw or as edits
//! of a valid encoding: an error or a valid object that re-encodes to the same bytes,
//! never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let bytes = common::input(data, &common::valid().swk);
    if let Ok(v) = hetal_core::codec::decode_switching_key(common::ctx(), &bytes) {
        assert_eq!(
            hetal_core::codec::encode_switching_key(common::ctx(), &v),
            bytes
        );
    }
});
