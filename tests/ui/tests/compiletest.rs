//! Compile-fail cases: every user mistake in `#[specialize]`,
//! `#[staged::self_contained]` and `const_init!` gets exactly the message
//! written next to it in
//! `tests/ui/` (this package: trybuild and its dependencies stay out of the
//! demo's build). Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test -p staged-ui-tests` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("specialize/*.rs");
    t.compile_fail("self_contained/*.rs");
    t.compile_fail("const_init/*.rs");
}
