//! Data parallelism for the per-object stages (rendering APIRules, writing files): a scoped
//! map over contiguous chunks, results in input order, so output stays deterministic.
//!
//! The number of threads is the machine's available parallelism (at most 8), or
//! `KEXPOSE_THREADS` when set (`KEXPOSE_THREADS=1` runs everything on the calling thread).
//! Small inputs stay on the calling thread: starting a thread costs more than rendering a
//! few objects.

use std::sync::OnceLock;

/// Inputs shorter than this are handled on the calling thread.
const MIN_PARALLEL: usize = 64;

/// The number of threads the parallel stages use.
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("KEXPOSE_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n >= 1)
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
                    .min(8)
            })
    })
}

/// `items.iter().map(f).collect()`, spread over [`threads`] threads.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads().min(items.len() / MIN_PARALLEL).max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for handle in handles {
            match handle.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order_for_every_size() {
        for n in [0, 1, 63, 64, 65, 128, 1000, 1001] {
            let items: Vec<usize> = (0..n).collect();
            let doubled = super::map(&items, |i| i * 2);
            assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
    }
}
