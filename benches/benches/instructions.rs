//! Instruction counts (iai-callgrind, under valgrind): every workload on every subject, at
//! 1,000 records.
//!
//! Needs valgrind and the runner of exactly the library's version:
//!
//! ```sh
//! cargo install iai-callgrind-runner --version 0.16.1 --locked
//! IAI_CALLGRIND_SAVE_SUMMARY=json cargo bench -p netabase_benches --features bench --bench instructions
//! ```
//!
//! Only the benchmark function is counted: opening and filling the store happen in the
//! setup, and the fixture is returned so that closing it is not counted either. Results
//! (and `callgrind.*.out` files for `callgrind_annotate`) land in
//! `target/iai/netabase_benches/instructions/`.
// `#[library_benchmark]` and `library_benchmark_group!` generate public modules without
// docs; the benchmarks themselves are documented above.
#![allow(missing_docs)]

use std::hint::black_box;

use iai_callgrind::{library_benchmark, library_benchmark_group, main};
use netabase_benches::data::Batches;
use netabase_benches::{Fixture, Inputs, RANGE_WIDTH, User, subject};

/// The store size of every instruction-count benchmark.
const N: usize = 1_000;

type Read = (Fixture, Inputs);

fn read_fixture(name: &str) -> Read {
    let inputs = Inputs::new(N);
    let fixture = Fixture::populated(&subject(name), &inputs);
    // Warm the store (page cache, lazily opened tables) as a long-running reader would be.
    black_box(fixture.subject.get(&inputs.get_ids));
    (fixture, inputs)
}

fn empty_fixture(name: &str) -> (Fixture, Vec<User>) {
    (Fixture::empty(&subject(name)), Inputs::new(N).users)
}

fn renamed_fixture(name: &str) -> (Fixture, Vec<User>) {
    let (f, _) = read_fixture(name);
    (f, Batches::new(N).renamed())
}

fn re_emailed_fixture(name: &str) -> (Fixture, Vec<User>) {
    let (f, _) = read_fixture(name);
    (f, Batches::new(N).re_emailed())
}

fn remove_fixture(name: &str) -> (Fixture, Vec<u64>) {
    let (f, _) = read_fixture(name);
    (f, Batches::new(N).ids())
}

/// A library benchmark run on every read subject (the unvalidated baseline included).
macro_rules! on_read_subjects {
    ($setup:ident, fn $name:ident($arg:ident: $ty:ty) -> $ret:ty $body:block) => {
        #[library_benchmark]
        #[bench::raw_redb(args = ("raw_redb"), setup = $setup)]
        #[bench::raw_redb_unchecked(args = ("raw_redb_unchecked"), setup = $setup)]
        #[bench::bytes_redb(args = ("bytes_redb"), setup = $setup)]
        #[bench::typed_redb(args = ("typed_redb"), setup = $setup)]
        #[bench::raw_sled(args = ("raw_sled"), setup = $setup)]
        #[bench::bytes_sled(args = ("bytes_sled"), setup = $setup)]
        #[bench::typed_sled(args = ("typed_sled"), setup = $setup)]
        #[bench::bytes_memory(args = ("bytes_memory"), setup = $setup)]
        #[bench::typed_memory(args = ("typed_memory"), setup = $setup)]
        fn $name($arg: $ty) -> $ret $body
    };
}

/// A library benchmark run on every subject that writes (all but the unvalidated reader).
macro_rules! on_write_subjects {
    ($setup:ident, fn $name:ident($arg:ident: $ty:ty) -> $ret:ty $body:block) => {
        #[library_benchmark]
        #[bench::raw_redb(args = ("raw_redb"), setup = $setup)]
        #[bench::bytes_redb(args = ("bytes_redb"), setup = $setup)]
        #[bench::typed_redb(args = ("typed_redb"), setup = $setup)]
        #[bench::raw_sled(args = ("raw_sled"), setup = $setup)]
        #[bench::bytes_sled(args = ("bytes_sled"), setup = $setup)]
        #[bench::typed_sled(args = ("typed_sled"), setup = $setup)]
        #[bench::bytes_memory(args = ("bytes_memory"), setup = $setup)]
        #[bench::typed_memory(args = ("typed_memory"), setup = $setup)]
        fn $name($arg: $ty) -> $ret $body
    };
}

on_write_subjects!(
    empty_fixture,
    fn insert_bulk(f: (Fixture, Vec<User>)) -> (Fixture, Vec<User>) {
        f.0.subject.put_all(&f.1);
        f
    }
);

on_read_subjects!(
    read_fixture,
    fn get_random(f: Read) -> Read {
        black_box(f.0.subject.get(&f.1.get_ids));
        f
    }
);

on_read_subjects!(
    read_fixture,
    fn get_secondary(f: Read) -> Read {
        black_box(f.0.subject.get_by_email(&f.1.email_keys, &f.1.emails));
        f
    }
);

on_read_subjects!(
    read_fixture,
    fn scan_full(f: Read) -> Read {
        black_box(f.0.subject.scan());
        f
    }
);

on_read_subjects!(
    read_fixture,
    fn scan_range(f: Read) -> Read {
        black_box(f.0.subject.scan_ranges(&f.1.range_starts, RANGE_WIDTH));
        f
    }
);

on_read_subjects!(
    read_fixture,
    fn get_many(f: Read) -> (Read, Vec<Option<User>>) {
        let users = f.0.subject.get_many(&f.1.many_ids);
        (f, users)
    }
);

on_write_subjects!(
    renamed_fixture,
    fn put_loop(f: (Fixture, Vec<User>)) -> (Fixture, Vec<User>) {
        f.0.subject.put_each(&f.1);
        f
    }
);

on_write_subjects!(
    re_emailed_fixture,
    fn update_email(f: (Fixture, Vec<User>)) -> (Fixture, Vec<User>) {
        f.0.subject.put_all(&f.1);
        f
    }
);

on_write_subjects!(
    remove_fixture,
    fn remove(f: (Fixture, Vec<u64>)) -> (Fixture, Vec<u64>) {
        f.0.subject.delete_all(&f.1);
        f
    }
);

library_benchmark_group!(
    name = reads;
    benchmarks = get_random, get_secondary, scan_full, scan_range, get_many
);

library_benchmark_group!(
    name = writes;
    benchmarks = insert_bulk, put_loop, update_email, remove
);

main!(library_benchmark_groups = reads, writes);
