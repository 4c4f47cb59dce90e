//! Cache hints: asking for memory the next steps will read, so that its misses overlap the work in
//! between instead of stalling it one by one. Hints only: where the CPU has none, they do nothing.

/// Bytes in a cache line on the CPUs we run on.
pub const LINE: usize = 64;

/// Asks for the cache line holding `address` to be brought into every level of the cache.
/// Any address will do: a prefetch never faults.
#[inline(always)]
pub fn prefetch<T>(address: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of x86_64, and a prefetch is a hint that never faults.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// `prefetch` for every cache line of `data`.
#[inline(always)]
pub fn prefetch_slice<T>(data: &[T]) {
    let bytes = std::mem::size_of_val(data);
    if bytes == 0 {
        return;
    }
    let start = data.as_ptr().cast::<u8>();
    // A step of a line from the start reaches every line but perhaps the last one's end.
    for offset in (0..bytes).step_by(LINE) {
        prefetch(start.wrapping_add(offset));
    }
    prefetch(start.wrapping_add(bytes - 1));
}
