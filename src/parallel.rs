//! Threads: each run computes inside one rayon pool of the size `--threads` asks for.
//!
//! The matrix products (`kernels::gemm`) cut large products into one piece per thread of the
//! current pool with `rayon::join`, and evaluation spreads its blocks over the pool. Running the
//! whole command inside the pool makes those joins cheap (a push onto this worker's own queue,
//! no allocation) instead of a hand-over from a thread outside the pool for every product.
//!
//! Waiting threads do not spin for long: an idle rayon worker yields a few dozen times and then
//! sleeps on a condition variable until it is given work, so it leaves the CPU to other processes.

use anyhow::Context;

use crate::kernels::prepare_thread;

/// The number of threads when none is asked for: every core the process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `work` inside a new pool of `threads` threads (all cores when `None`) and returns its result.
pub fn with_threads<R: Send>(threads: Option<usize>, work: impl FnOnce() -> R + Send) -> anyhow::Result<R> {
    let threads = threads.unwrap_or_else(default_threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("mlp-worker-{i}"))
        .build()
        .with_context(|| format!("cannot start {threads} worker threads"))?;
    // Training runs in f32: size every worker's packing buffers before the first step, so that no
    // step allocates later, whichever worker first takes a piece of a product.
    pool.broadcast(|_| prepare_thread::<f32>());
    Ok(pool.install(work))
}
