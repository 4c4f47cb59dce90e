//! The allocator `mlp`'s binaries install: the system's, with every block of a page or more
//! starting on a cache line.
//!
//! The kernels load 8 f32 (32 bytes) at a time along rows of weights, gradients and optimizer
//! moments. glibc starts large blocks 16 bytes past a line, so half of those loads straddle two
//! lines and cost two: the first layer's sparse sums, which read a row block of W for every
//! nonzero pixel, took 1.28x as long for it, and the big net's training step 1.08x. PyTorch aligns
//! its CPU tensors to 64 bytes for the same reason (`gAlignment`, c10/core/alignment.h). Results do not depend on it: no kernel's order of
//! operations follows the address.
//!
//! Two costs come with it, as the C library cannot align `calloc` or `realloc`: a large zeroed
//! block is written with zeros, so all its pages count at once (buffers that may stay unused are
//! made when first needed: evaluation's dense block, a trace's deltas); and a large block that
//! grows is copied (the IDX reader makes room for a payload once).
//!
//! A binary using the library installs it with
//! `#[global_allocator] static ALLOCATOR: mlp::alloc::LineAligned = mlp::alloc::LineAligned;`,
//! and calls `fix_mmap_threshold` first thing.

use std::alloc::{GlobalAlloc, Layout, System};

use crate::kernels::cache::LINE;

/// Blocks this large or larger start on a cache line; smaller ones keep their own alignment, so
/// that the many small allocations waste nothing.
const ALIGNED_FROM: usize = 4096;

/// The system allocator, aligning blocks of `ALIGNED_FROM` bytes or more to a cache line.
pub struct LineAligned;

/// The layout the system allocator is asked for in place of `layout`. The same for a block's
/// allocation and its release, as `dealloc` is handed the layout `alloc` was.
fn widened(layout: Layout) -> Layout {
    if layout.size() >= ALIGNED_FROM {
        layout.align_to(LINE).unwrap_or(layout)
    } else {
        layout
    }
}

/// Keeps glibc's threshold for serving a block by `mmap` at 128 KiB, its starting value. glibc
/// otherwise raises it each time a mapped block is freed (up to 32 MiB), and large blocks then come
/// from the heap, placed by the history of every earlier allocation: a change that only moved
/// when buffers are made left the big net's training 14% slower (bench/compare.sh --big, 5
/// alternating runs against its parent), and as fast as before once the threshold was held. Held,
/// every large block gets pages of its own, whatever came before it.
pub fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of the C library's allocator.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

// SAFETY: every call goes to the system allocator with the layout `widened` gives, and each block
// is released with the layout it was allocated with (`widened` depends on the layout alone).
unsafe impl GlobalAlloc for LineAligned {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: `widened` keeps the size (nonzero, as the caller guarantees) and only raises
        // the alignment.
        unsafe { System.alloc(widened(layout)) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(widened(layout)) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr was allocated by this allocator with `layout`, so by the system allocator
        // with `widened(layout)`.
        unsafe { System.dealloc(ptr, widened(layout)) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = widened(layout);
        // SAFETY: the caller guarantees that new_size, rounded up to layout.align(), fits isize.
        let new = widened(unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) });
        if old.align() == new.align() {
            // SAFETY: ptr is the system allocator's block of layout `old`; the alignment stays.
            return unsafe { System.realloc(ptr, old, new_size) };
        }
        // Crossing `ALIGNED_FROM` changes the alignment, which the system's realloc cannot do.
        // SAFETY: `new` has a nonzero size, as the caller guarantees for new_size.
        let moved = unsafe { System.alloc(new) };
        if !moved.is_null() {
            // SAFETY: both blocks hold at least the smaller size and do not overlap; ptr is then
            // released with the layout it was allocated with.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                System.dealloc(ptr, old);
            }
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Allocates `size` bytes through `LineAligned`, filled with 0, 1, 2, ... (mod 251).
    fn filled(size: usize) -> (*mut u8, Layout) {
        let layout = Layout::from_size_align(size, 4).unwrap();
        let ptr = unsafe { LineAligned.alloc(layout) };
        assert!(!ptr.is_null());
        for i in 0..size {
            unsafe { ptr.add(i).write((i % 251) as u8) };
        }
        (ptr, layout)
    }

    fn assert_filled(ptr: *const u8, size: usize) {
        for i in 0..size {
            assert_eq!(unsafe { ptr.add(i).read() }, (i % 251) as u8, "byte {i} changed");
        }
    }

    #[test]
    fn large_blocks_start_on_a_cache_line() {
        for size in [ALIGNED_FROM, 5000, 1 << 20, 3 << 20] {
            let (ptr, layout) = filled(size);
            assert_eq!(ptr as usize % LINE, 0, "a block of {size} bytes");
            unsafe { LineAligned.dealloc(ptr, layout) };
            let zeroed = unsafe { LineAligned.alloc_zeroed(layout) };
            assert_eq!(zeroed as usize % LINE, 0, "a zeroed block of {size} bytes");
            assert!((0..size).all(|i| unsafe { zeroed.add(i).read() } == 0));
            unsafe { LineAligned.dealloc(zeroed, layout) };
        }
    }

    #[test]
    fn reallocation_keeps_the_contents_across_the_threshold() {
        // Small to large, large to larger, large to small: the alignment changes in the first
        // and last, which the system's realloc is not asked to do.
        let (small, layout) = filled(100);
        let large = unsafe { LineAligned.realloc(small, layout, 2 * ALIGNED_FROM) };
        assert_eq!(large as usize % LINE, 0);
        assert_filled(large, 100);
        let large_layout = Layout::from_size_align(2 * ALIGNED_FROM, 4).unwrap();
        for i in 100..2 * ALIGNED_FROM {
            unsafe { large.add(i).write((i % 251) as u8) };
        }
        let larger = unsafe { LineAligned.realloc(large, large_layout, 1 << 20) };
        assert_eq!(larger as usize % LINE, 0);
        assert_filled(larger, 2 * ALIGNED_FROM);
        let larger_layout = Layout::from_size_align(1 << 20, 4).unwrap();
        let shrunk = unsafe { LineAligned.realloc(larger, larger_layout, 50) };
        assert_filled(shrunk, 50);
        unsafe { LineAligned.dealloc(shrunk, Layout::from_size_align(50, 4).unwrap()) };
    }
}
