//! Keeps freed memory inside the process on glibc.
//!
//! A CKKS operation at N = 2^16 allocates and frees polynomials of 1-17 MB many
//! times per second. glibc's defaults serve those with `mmap` and give them back
//! with `munmap` (or trim the heap) on every free, so each new buffer costs page
//! faults and the kernel zeroing its pages again: a one-thread N16 bootstrap took
//! 21.8 s with the defaults and 18.1 s with freed memory kept (the same bench
//! binary, `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...:trim_threshold=...`,
//! README "Bootstrapping"). Setting the two thresholds at start-up gives every user
//! of the binary that without an environment variable. The peak resident size is
//! that of the largest working set, as before; memory is handed back when the
//! process exits.

/// Raises glibc's mmap and trim thresholds to 1 GiB; `true` if glibc accepted both.
/// Call it once, at the start of `main`, before any thread exists. A no-op (`false`)
/// on other C libraries and systems.
pub fn keep_freed_memory() -> bool {
    imp::keep_freed_memory()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use core::ffi::c_int;

    // glibc's <malloc.h>.
    const M_TRIM_THRESHOLD: c_int = -1;
    const M_MMAP_THRESHOLD: c_int = -3;
    const ONE_GIB: c_int = 1 << 30;

    unsafe extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }

    pub(super) fn keep_freed_memory() -> bool {
        // SAFETY: `mallopt` takes two integers and only changes the allocator's
        // tuning parameters under its own lock; the values are in the documented
        // range (glibc 2.36 accepts up to its heap limit and reports a refusal by
        // returning 0, which we pass on). It does not touch memory we own.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, ONE_GIB) == 1 && mallopt(M_TRIM_THRESHOLD, ONE_GIB) == 1
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub(super) fn keep_freed_memory() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn glibc_accepts_the_thresholds() {
        let ok = super::keep_freed_memory();
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert!(ok, "glibc refused the malloc thresholds");
        } else {
            assert!(!ok);
            eprintln!("skipped: not glibc, keep_freed_memory is a no-op here");
        }
        // Large allocations still work (and are served from the heap).
        let v = vec![7u64; 4 << 20];
        assert_eq!(v.iter().sum::<u64>(), 7 * (4 << 20));
    }
}
