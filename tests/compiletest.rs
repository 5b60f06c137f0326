//! Compile-fail cases: every user mistake in `#[specialize]`,
//! `#[staged::self_contained]` and `const_init!` gets exactly the message
//! written next to it in
//! `tests/ui/`. Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test --test compiletest` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/specialize/*.rs");
    t.compile_fail("tests/ui/self_contained/*.rs");
    t.compile_fail("tests/ui/const_init/*.rs");
}
