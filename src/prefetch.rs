//! Hints to the CPU to start loading memory the simulation will read soon, so that a cache miss overlaps
//! other work instead of stalling it. Hints only: nothing here reads or changes what a run computes.

/// Asks the CPU to bring `value`'s cache line into the nearest cache, without waiting for it.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetchT0` is a hint: it never faults, whatever the address, and has no effect a program
    // can observe but its timing; SSE, which it needs, is part of every x86-64 CPU.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
