//! A smol executor with threads of its own, shared by the programs that run rtcpeer on smol.

use std::sync::Arc;

/// A new smol executor that `threads` threads named `{name}-{i}` run for the rest of the
/// program (none: whoever awaits on it drives it).
///
/// # Panics
/// If the OS refuses a thread.
pub fn executor_with_threads(threads: usize, name: &str) -> Arc<smol::Executor<'static>> {
    let executor = Arc::new(smol::Executor::new());
    for i in 0..threads {
        let runner = executor.clone();
        std::thread::Builder::new()
            .name(format!("{name}-{i}"))
            .spawn(move || smol::block_on(runner.run(smol::future::pending::<()>())))
            .expect("start a smol executor thread");
    }
    executor
}
