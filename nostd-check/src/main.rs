//! A freestanding binary that calls into hetal-simd and hetal-core (math, ring, CKKS
//! parameters), so CI fails if any of that needs `std`. CI tooling, not library code:
//! the allocator below is the only `unsafe` outside hetal-simd, and it never runs in CI
//! (the binary is built, not executed).
#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

const HEAP_SIZE: usize = 1 << 20;

/// A bump allocator over a static arena; never frees.
struct Bump {
    next: AtomicUsize,
}

#[repr(align(4096))]
struct Arena(core::cell::UnsafeCell<[u8; HEAP_SIZE]>);

// SAFETY: the arena is only handed out in disjoint chunks by the atomic bump pointer.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena(core::cell::UnsafeCell::new([0; HEAP_SIZE]));

// SAFETY: `alloc` returns disjoint, suitably aligned chunks of the static arena (or null
// when it is exhausted); `dealloc` does nothing, which is always sound.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = ARENA.0.get() as usize;
        let mut cur = self.next.load(Ordering::Relaxed);
        loop {
            let start = (base + cur).next_multiple_of(layout.align()) - base;
            let end = start + layout.size();
            if end > HEAP_SIZE {
                return core::ptr::null_mut();
            }
            match self
                .next
                .compare_exchange(cur, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return (base + start) as *mut u8,
                Err(seen) => cur = seen,
            }
        }
    }
    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[global_allocator]
static ALLOC: Bump = Bump {
    next: AtomicUsize::new(0),
};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

fn exercise() -> u64 {
    use hetal_core::math::primes::ntt_primes;
    use hetal_core::math::{Modulus, NttPlan};
    use hetal_core::ring::{RingContext, RnsPoly};
    let n = 1024;
    let q = ntt_primes(50, n, 2, &[]).unwrap_or_default();
    let Ok(m) = Modulus::new(q[0]) else { return 0 };
    let Ok(plan) = NttPlan::new(m, n) else {
        return 0;
    };
    let mut a = alloc::vec![1u64; n];
    plan.forward(&mut a);
    plan.inverse(&mut a);
    let Ok(ctx) = RingContext::new(n, &q[..1], &q[1..]) else {
        return 0;
    };
    let Ok(mut p) = RnsPoly::from_signed(&ctx, &alloc::vec![1i64; n], 1, 1) else {
        return 0;
    };
    let _ = p.to_ntt(&ctx);
    let _ = hetal_core::ckks::encoder::Encoder::new(n);
    let backend = hetal_simd::Kernels::best().backend() as u64;
    a[0] + p.data()[0] + backend
}

/// Entry point of the freestanding binary.
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let v = exercise();
    core::hint::black_box(v);
    loop {}
}
