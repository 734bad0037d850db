//! The writer child: commits transactions until it is killed, acknowledging each one on
//! stdout after `commit()` returned.

use std::io::Write;
use std::path::PathBuf;

use crate::model::{
    Account, Engine, Entry, Op, PROGRESS, Progress, Redb, RedbChecksummed, Sled, SledChecksummed,
    stored_seq, transaction,
};

/// Runs the child for `backend`; returns the process exit code (it only returns on an
/// error: a healthy child runs until the parent kills it).
pub fn main(backend: &str) -> i32 {
    let result = match backend {
        "redb" => run::<Redb>(),
        "sled" => run::<Sled>(),
        "redb+checksums" => run::<RedbChecksummed>(),
        "sled+checksums" => run::<SledChecksummed>(),
        other => Err(format!("unknown backend `{other}`")),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("crash child ({backend}): {e}");
            2
        }
    }
}

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

fn run<E: Engine>() -> Result<(), String> {
    let dir = PathBuf::from(var("NETABASE_CRASH_DIR")?);
    let seed: u64 = var("NETABASE_CRASH_SEED")?
        .parse()
        .map_err(|e| format!("NETABASE_CRASH_SEED: {e}"))?;
    let store = E::open(&dir).map_err(|e| format!("open: {e}"))?;
    let mut seq = stored_seq(&store).map_err(|e| format!("read progress: {e}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "start {seq}").map_err(|e| format!("stdout: {e}"))?;
    out.flush().map_err(|e| format!("stdout: {e}"))?;
    loop {
        seq += 1;
        commit(&store, seed, seq).map_err(|e| format!("commit {seq}: {e}"))?;
        // A closed pipe (the parent is gone) ends the child here.
        writeln!(out, "ack {seq}").map_err(|e| format!("stdout: {e}"))?;
        out.flush().map_err(|e| format!("stdout: {e}"))?;
    }
}

/// Writes transaction `seq` in one write transaction and commits it.
fn commit<B: netabase_store::backend::Backend>(
    store: &crate::model::Store<B>,
    seed: u64,
    seq: u64,
) -> netabase_store::Result<()> {
    let ops = transaction(seed, seq);
    let txn = store.write()?;
    {
        let mut accounts = txn.open_tree::<Account>()?;
        let mut entries = txn.open_tree::<Entry>()?;
        for op in &ops {
            match op {
                Op::PutAccount(a) => accounts.put(a)?,
                Op::RemoveAccount(id) => {
                    accounts.delete(*id)?;
                }
                Op::PutEntry(e) => entries.put(e)?,
                Op::RemoveEntry(id) => {
                    entries.delete(*id)?;
                }
            }
        }
        txn.open_tree::<Progress>()?.put(Progress {
            id: PROGRESS,
            seq,
            ops: ops.len() as u32,
        })?;
    }
    txn.commit()
}
