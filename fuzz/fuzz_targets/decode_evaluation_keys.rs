//! Arbitrary bytes into `codec::decode_evaluation_keys` (insecure N = 2^11 test context): it must
//! return an error or a valid object, never panic, and never allocate before checking
//! that the input is long enough.
#![no_main]
use std::sync::OnceLock;

use hetal_core::ckks::{CkksContext, Params};
use libfuzzer_sys::fuzz_target;

fn ctx() -> &'static CkksContext {
    static CTX: OnceLock<CkksContext> = OnceLock::new();
    CTX.get_or_init(|| CkksContext::new(Params::insecure_n11()).expect("test context"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = hetal_core::codec::decode_evaluation_keys(ctx(), data) {
        // whatever decodes must re-encode to the same bytes (one canonical encoding)
        assert_eq!(hetal_core::codec::encode_evaluation_keys(ctx(), &v), data);
    }
});
