//! The background builders of `Background` mode: a queue served by at most
//! one thread per core, started on demand.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, OnceLock};

use crate::slots::cores;

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<State>,
    ready: Condvar,
}

struct State {
    jobs: VecDeque<Job>,
    workers: usize,
    idle: usize,
    /// The process the workers run in: a forked child has none of them.
    pid: u32,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State {
            jobs: VecDeque::new(),
            workers: 0,
            idle: 0,
            pid: std::process::id(),
        }),
        ready: Condvar::new(),
    })
}

/// Runs `job` on a background builder.
pub(crate) fn submit(job: impl FnOnce() + Send + 'static) {
    let pool = pool();
    let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
    let me = std::process::id();
    if state.pid != me {
        // Forked: the parent's builders are not here; queued jobs stay and
        // new builders take them.
        state.workers = 0;
        state.idle = 0;
        state.pid = me;
    }
    state.jobs.push_back(Box::new(job));
    if state.idle == 0 && state.workers < cores() {
        let spawned = std::thread::Builder::new()
            .name("staged-builder".into())
            .spawn(work);
        match spawned {
            Ok(_) => state.workers += 1,
            Err(e) => log::warn!("staged: cannot start a builder thread: {e}"),
        }
    }
    pool.ready.notify_one();
}

std::thread_local! {
    /// Whether this thread is a background builder.
    static BUILDER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the calling thread is a background builder (whose builds run at
/// a lower priority than the program).
pub(crate) fn on_builder() -> bool {
    BUILDER.with(std::cell::Cell::get)
}

fn work() {
    BUILDER.with(|b| b.set(true));
    let pool = pool();
    loop {
        let job = {
            let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(job) = state.jobs.pop_front() {
                    break job;
                }
                state.idle += 1;
                state = pool.ready.wait(state).unwrap_or_else(|e| e.into_inner());
                state.idle -= 1;
            }
        };
        // A job records its own failures; a panic (a bug) must not take the
        // builder with it.
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            log::error!("staged: a background build panicked");
        }
    }
}
