//! Misuse that must not compile, with the compiler's message pinned in `tests/ui/*.stderr`:
//! macro errors point at the offending span, and the type-state API refuses writes through
//! read transactions, commits with live trees, writes under live guards, and guards that
//! outlive their transaction.
//!
//! Regenerate the snapshots after an intended change with `TRYBUILD=overwrite`.

#[test]
fn misuse_does_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
