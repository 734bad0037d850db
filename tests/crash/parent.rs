//! The parent: starts writer children, kills them with SIGKILL at random moments, and checks
//! the reopened store against the model after every kill.

use std::fmt::Display;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use netabase_store::backend::{Backend, ReadTable, ReadTransaction};
use netabase_store::traits::model::NetabaseModelTrait;

use crate::CHILD_VAR;
use crate::model::{
    ACCOUNTS, Account, ENTRY_SLOTS, Engine, Entry, PLANS, PROGRESS, Progress, Redb,
    RedbChecksummed, Rng, Sled, SledChecksummed, State, Store, TAGS, stored_seq,
};

/// How long the parent waits for one acknowledgement before it calls the child stuck.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs every requested backend; returns the process exit code.
pub fn main() -> i32 {
    let kills: u32 = match std::env::var("NETABASE_CRASH_KILLS") {
        Ok(v) => match v.parse() {
            Ok(n) => n,
            Err(e) => {
                eprintln!("crash: NETABASE_CRASH_KILLS={v}: {e}");
                return 2;
            }
        },
        Err(_) => 5,
    };
    let seed: u64 = match std::env::var("NETABASE_CRASH_SEED") {
        Ok(v) => match v.parse() {
            Ok(n) => n,
            Err(e) => {
                eprintln!("crash: NETABASE_CRASH_SEED={v}: {e}");
                return 2;
            }
        },
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    };
    let backends =
        std::env::var("NETABASE_CRASH_BACKENDS").unwrap_or_else(|_| "redb sled".to_owned());
    println!("crash: {kills} SIGKILLs per backend, NETABASE_CRASH_SEED={seed}");
    let mut failed = false;
    for backend in backends.split_whitespace() {
        let result = match backend {
            "redb" => run::<Redb>(kills, seed),
            "sled" => run::<Sled>(kills, seed),
            "redb+checksums" => run::<RedbChecksummed>(kills, seed),
            "sled+checksums" => run::<SledChecksummed>(kills, seed),
            other => Err(format!(
                "unknown backend `{other}` (redb, sled, redb+checksums, sled+checksums)"
            )),
        };
        match result {
            Ok(figures) => println!("crash[{backend}]: {figures}"),
            Err(e) => {
                println!("crash[{backend}]: FAILED: {e}");
                println!("crash[{backend}]: reproduce with NETABASE_CRASH_SEED={seed}");
                failed = true;
            }
        }
    }
    if failed {
        1
    } else {
        println!("crash: ok");
        0
    }
}

/// What one backend's run did.
#[derive(Default)]
struct Figures {
    kills: u32,
    acknowledged: u64,
    at_last_ack: u32,
    in_flight_durable: u32,
    final_state: State,
    elapsed: Duration,
}

impl Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} kills, {} commits acknowledged and all recovered; after a kill the store was at \
             the last acknowledged commit {} times and one commit later (the in-flight commit \
             had become durable) {} times; final store at commit {} with {} accounts and {} \
             entries, consistent; {:.1} s",
            self.kills,
            self.acknowledged,
            self.at_last_ack,
            self.in_flight_durable,
            self.final_state.seq,
            self.final_state.accounts.len(),
            self.final_state.entries.len(),
            self.elapsed.as_secs_f64(),
        )
    }
}

fn err<T, E: Display>(result: Result<T, E>, what: impl Display) -> Result<T, String> {
    result.map_err(|e| format!("{what}: {e}"))
}

/// One backend: `kills` rounds of start, kill, reopen and check, on one store.
fn run<E: Engine>(kills: u32, seed: u64) -> Result<Figures, String> {
    let started = Instant::now();
    let dir = err(tempfile::tempdir(), "temporary directory")?;
    let stderr_path = dir.path().join("child.stderr");
    let store_dir = dir.path().join("store");
    err(std::fs::create_dir(&store_dir), "store directory")?;
    let name = E::NAME
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut rng = Rng::new(seed ^ name ^ 0x5eed_c4a5_4000_0000);
    let mut state = State::default();
    let mut figures = Figures::default();
    for round in 1..=kills {
        let at = |what: String| format!("round {round} (store at commit {}): {what}", state.seq);
        let stderr = err(std::fs::File::create(&stderr_path), "child stderr file")?;
        let mut child = err(
            Command::new(err(std::env::current_exe(), "current exe")?)
                .env(CHILD_VAR, E::NAME)
                .env("NETABASE_CRASH_DIR", &store_dir)
                .env("NETABASE_CRASH_SEED", seed.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(stderr)
                .spawn(),
            "spawn the child",
        )?;
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().ok_or("no child stdout")?;
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Half the rounds kill after a random delay from the start (so some land while the
        // child opens or recovers the store), half after a random number of
        // acknowledgements plus up to 2 ms (mostly inside a later commit).
        let mut lines = Vec::new();
        if rng.chance(1, 2) {
            std::thread::sleep(Duration::from_micros(rng.below(100_000)));
        } else {
            let want = 1 + rng.below(30) as usize;
            while lines
                .iter()
                .filter(|l: &&String| l.starts_with("ack "))
                .count()
                < want
            {
                match rx.recv_timeout(ACK_TIMEOUT) {
                    Ok(line) => lines.push(line),
                    Err(_) => break,
                }
            }
            std::thread::sleep(Duration::from_micros(rng.below(2_000)));
        }
        kill(&mut child).map_err(&at)?;
        let status = err(child.wait(), "wait for the child")?;
        let _ = reader.join();
        lines.extend(rx.try_iter());
        if status.signal() != Some(SIGKILL) {
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            return Err(at(format!(
                "the child ended by itself ({status}) before the kill: {}",
                stderr.trim()
            )));
        }
        let last_ack = check_acks(&lines, state.seq).map_err(&at)?;
        figures.kills += 1;
        figures.acknowledged += last_ack - state.seq;
        let recovered = recover::<E>(&store_dir, &state, last_ack, seed).map_err(&at)?;
        if recovered.seq == last_ack {
            figures.at_last_ack += 1;
        } else {
            figures.in_flight_durable += 1;
        }
        state = recovered;
    }
    figures.final_state = state;
    figures.elapsed = started.elapsed();
    Ok(figures)
}

/// SIGKILL's number (9 on every unix).
const SIGKILL: i32 = 9;

/// `Child::kill` sends SIGKILL on unix; a child that already exited is reported by `wait`.
fn kill(child: &mut Child) -> Result<(), String> {
    match child.kill() {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
        Err(e) => Err(format!("SIGKILL: {e}")),
    }
}

/// Checks the child's lines (`start <seq>`, then `ack <seq>` one by one) and returns the
/// last acknowledged commit.
fn check_acks(lines: &[String], start: u64) -> Result<u64, String> {
    let mut last = start;
    for (i, line) in lines.iter().enumerate() {
        let (word, n) = line
            .split_once(' ')
            .and_then(|(w, n)| Some((w, n.parse::<u64>().ok()?)))
            .ok_or_else(|| format!("unexpected child output `{line}`"))?;
        match (i, word) {
            (0, "start") if n == start => {}
            (0, "start") => {
                return Err(format!(
                    "the child found commit {n} in the store, the parent had checked {start}"
                ));
            }
            (_, "ack") if i > 0 && n == last + 1 => last = n,
            _ => {
                return Err(format!(
                    "unexpected child output `{line}` after commit {last}"
                ));
            }
        }
    }
    Ok(last)
}

/// Reopens the store after a kill and checks it; returns the model state it holds.
fn recover<E: Engine>(
    dir: &Path,
    state: &State,
    last_ack: u64,
    seed: u64,
) -> Result<State, String> {
    let store = err(E::open(dir), "reopen after the kill")?;
    let seq = err(stored_seq(&store), "read the progress record")?;
    if seq < last_ack {
        return Err(format!(
            "LOST ACKNOWLEDGED COMMITS: the store reopened at commit {seq}, but commits up to \
             {last_ack} were acknowledged (commit() had returned)"
        ));
    }
    if seq > last_ack + 1 {
        return Err(format!(
            "the store reopened at commit {seq}, but only {last_ack} were acknowledged and \
             the child starts a commit only after acknowledging the one before"
        ));
    }
    let expected = state.advanced_to(seed, seq);
    check_store(&store, &expected).map_err(|e| {
        // Name a half-applied transaction as such: the records match the commit before.
        let before = state.advanced_to(seed, seq.saturating_sub(1));
        let hint = if seq > state.seq && check_records(&store, &before).is_ok() {
            format!(
                " (the records are those of commit {}: half applied)",
                seq - 1
            )
        } else {
            String::new()
        };
        format!("after reopening at commit {seq}: {e}{hint}")
    })?;
    Ok(expected)
}

/// Every record of both models equals the model, and every read path agrees.
fn check_store<B: Backend>(store: &Store<B>, expected: &State) -> Result<(), String> {
    check_records(store, expected)?;
    let txn = err(store.read(), "begin read")?;
    let accounts = err(txn.open_tree::<Account>(), "open accounts")?;
    let entries = err(txn.open_tree::<Entry>(), "open entries")?;
    let progress = err(txn.open_tree::<Progress>(), "open progress")?;
    let got = err(progress.get(PROGRESS), "get progress")?
        .map(|p| p.deserialize())
        .transpose();
    if err(got, "progress")? != expected.progress() {
        return Err("the progress record differs from the model".into());
    }
    for id in 0..ACCOUNTS {
        let got = err(accounts.get(id), "get account")?.is_some();
        if got != expected.accounts.contains_key(&id) {
            return Err(format!("get(account {id}) disagrees with iteration"));
        }
        for slot in 0..ENTRY_SLOTS {
            let got = err(entries.get((id, slot)), "get entry")?.is_some();
            if got != expected.entries.contains_key(&(id, slot)) {
                return Err(format!("get(entry {id}/{slot}) disagrees with iteration"));
            }
        }
    }
    if err(accounts.len(), "len")? != expected.accounts.len() as u64
        || err(entries.len(), "len")? != expected.entries.len() as u64
    {
        return Err("len() disagrees with the model".into());
    }
    // Secondary lookups: each must return exactly the records the model says, in
    // primary-key order, and count the same.
    fn same<M: NetabaseModelTrait + PartialEq, T: ReadTable>(
        what: String,
        got: netabase_store::Result<netabase_store::SecondaryIter<'_, M, T>>,
        count: netabase_store::Result<u64>,
        want: Vec<&M>,
    ) -> Result<(), String> {
        let got: Vec<M> = err(
            err(got, &what)?
                .map(|r| r.and_then(|r| r.deserialize()))
                .collect::<netabase_store::Result<Vec<M>>>(),
            &what,
        )?;
        if got.iter().ne(want.iter().copied()) || err(count, &what)? != want.len() as u64 {
            return Err(format!("{what}: the lookup disagrees with the records"));
        }
        Ok(())
    }
    for a in expected.accounts.values() {
        same(
            format!("email {}", a.email),
            accounts.get_by(Account::EMAIL, a.email.as_str()),
            accounts.count_by(Account::EMAIL, a.email.as_str()),
            vec![a],
        )?;
    }
    for tag in TAGS {
        let want = expected
            .accounts
            .values()
            .filter(|a| a.tags.iter().any(|t| t == tag))
            .collect();
        same(
            format!("tag {tag:?}"),
            accounts.get_by(Account::TAGS, tag),
            accounts.count_by(Account::TAGS, tag),
            want,
        )?;
    }
    for plan in 0..PLANS {
        let want = expected
            .accounts
            .values()
            .filter(|a| a.plan == Some(plan))
            .collect();
        same(
            format!("plan {plan}"),
            accounts.get_by(Account::PLAN, plan),
            accounts.count_by(Account::PLAN, plan),
            want,
        )?;
    }
    for account in 0..ACCOUNTS {
        let want = expected
            .entries
            .values()
            .filter(|e| e.account == account)
            .collect();
        same(
            format!("entries of account {account}"),
            entries.get_by(Entry::ACCOUNT, account),
            entries.count_by(Entry::ACCOUNT, account),
            want,
        )?;
    }
    for e in expected.entries.values() {
        if let Some(slug) = &e.slug {
            same(
                format!("slug {slug}"),
                entries.get_by(Entry::SLUG, slug.as_str()),
                entries.count_by(Entry::SLUG, slug.as_str()),
                vec![e],
            )?;
        }
    }
    // The lookups above find every entry the records imply; the raw index tables must hold
    // no others (no entry left behind by a half-applied update).
    let raw = err(store.backend().begin_read(), "begin raw read")?;
    for (table, want) in [
        (Account::INFO.index_table, expected.account_index_entries()),
        (Entry::INFO.index_table, expected.entry_index_entries()),
    ] {
        let got = err(
            err(raw.open_table(table), "open raw index")?.len(),
            "raw index len",
        )?;
        if got != want {
            return Err(format!(
                "index table `{table}` holds {got} entries, the records imply {want}"
            ));
        }
    }
    // And the store's own check agrees: nothing dangling, missing or undecodable.
    let report = err(store.check_integrity(), "check_integrity()")?;
    if !report.is_clean() {
        return Err(format!("check_integrity() is not clean: {report}"));
    }
    for (model, records, entries) in [
        (
            "Account",
            expected.accounts.len(),
            expected.account_index_entries(),
        ),
        (
            "Entry",
            expected.entries.len(),
            expected.entry_index_entries(),
        ),
    ] {
        let m = report
            .model(model)
            .ok_or_else(|| format!("check_integrity() has no report for {model}"))?;
        if m.records != records as u64 || m.index_entries != entries {
            return Err(format!(
                "check_integrity() counts {m}, the model {records} records and {entries} \
                 index entries"
            ));
        }
    }
    Ok(())
}

/// Every record of both models, by iteration, equals the model's.
fn check_records<B: Backend>(store: &Store<B>, expected: &State) -> Result<(), String> {
    let txn = err(store.read(), "begin read")?;
    let accounts: Vec<Account> = err(
        err(txn.open_tree::<Account>(), "open accounts")?
            .iter()
            .and_then(|it| it.map(|r| r?.deserialize()).collect()),
        "iterate accounts",
    )?;
    let entries: Vec<Entry> = err(
        err(txn.open_tree::<Entry>(), "open entries")?
            .iter()
            .and_then(|it| it.map(|r| r?.deserialize()).collect()),
        "iterate entries",
    )?;
    let diff = |what: &str, got: Vec<String>, want: Vec<String>| {
        let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
        let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
        format!(
            "{what} differ from the model: {} stored, {} expected; {} expected ones missing or \
             different (first: {:?}), {} stored ones unexpected (first: {:?})",
            got.len(),
            want.len(),
            missing.len(),
            missing.first(),
            extra.len(),
            extra.first(),
        )
    };
    if accounts.iter().ne(expected.accounts.values()) {
        return Err(diff(
            "accounts",
            accounts.iter().map(|a| format!("{a:?}")).collect(),
            expected
                .accounts
                .values()
                .map(|a| format!("{a:?}"))
                .collect(),
        ));
    }
    if entries.iter().ne(expected.entries.values()) {
        let short = |e: &Entry| {
            format!(
                "{:?} account {} slug {:?} body of {} bytes from {:?}",
                e.id,
                e.account,
                e.slug,
                e.body.len(),
                e.body.first()
            )
        };
        return Err(diff(
            "entries",
            entries.iter().map(short).collect(),
            expected.entries.values().map(short).collect(),
        ));
    }
    Ok(())
}
