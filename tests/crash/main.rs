//! Crash consistency under SIGKILL, on redb and sled (the persistent backends).
//!
//! This test binary has no libtest harness (`harness = false`): run without the
//! `NETABASE_CRASH_CHILD` variable it is the **parent**, with it the **writer child**.
//!
//! * The child opens the store, reads where the last run stopped (the `Progress` record),
//!   and commits write transactions one after another: each transaction is generated from
//!   a deterministic seed and its sequence number (puts, updates and removes of two models
//!   with unique, multi-valued, optional and plain secondary keys, 1 to 16 operations, plus
//!   the `Progress` record), committed with the store's default durability (fsync on redb,
//!   a sled flush after every commit), and acknowledged on stdout (`ack <seq>`) only after
//!   `commit()` returned.
//! * The parent starts the child, kills it with SIGKILL at a random moment (after a random
//!   delay, or after a random number of acknowledgements plus a few random microseconds, so
//!   kills land while opening, between commits and inside commits), reads every
//!   acknowledgement the child wrote, reopens the store and checks it against its own model
//!   of the transactions: the store is at the last acknowledged commit or exactly one later
//!   (the in-flight commit became durable but was not acknowledged); every record of both
//!   models equals the model's state after that commit (so no acknowledged commit is lost
//!   and none is half applied); `get`, every secondary lookup and count agree with the
//!   records; the raw index tables hold exactly as many entries as the records imply;
//!   `store.check_integrity()` is clean and counts the same records and entries. Then
//!   the next child continues from the recovered state, so one store lives through every
//!   kill of a run.
//!
//! SIGKILL ends the process, not the machine: what the child wrote to the operating system
//! survives it even without an fsync. So this shows consistency after a process crash, not
//! after a power loss.
//!
//! `NETABASE_CRASH_KILLS` sets the kills per backend (default 5; `.ci/run` uses 50, the
//! long mode 1000), `NETABASE_CRASH_SEED` the seed (default: from the clock, printed), and
//! `NETABASE_CRASH_BACKENDS` the backends (default `redb sled`; also `redb+checksums` and
//! `sled+checksums`, the same on `Checksummed` stores).

#[cfg(unix)]
mod child;
#[cfg(unix)]
mod model;
#[cfg(unix)]
mod parent;

/// The variable that makes this binary the writer child; its value is the backend.
#[cfg(unix)]
const CHILD_VAR: &str = "NETABASE_CRASH_CHILD";

#[cfg(unix)]
fn main() {
    let code = match std::env::var(CHILD_VAR) {
        Ok(backend) => child::main(&backend),
        Err(_) => parent::main(),
    };
    std::process::exit(code);
}

#[cfg(not(unix))]
fn main() {
    println!("crash: the SIGKILL crash test runs on unix only; skipped");
}
