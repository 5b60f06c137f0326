//! Checks that read sources of several crates of the workspace, so they
//! live in this unpublished package rather than in a crate whose package
//! would not hold the other crate's files.

/// The conversion from what an initializer returns to the declared type
/// exists twice: in the evaluator's harness (build time, injected as source)
/// and in the facade (run time, for `#[fallback(lazy)]`). They compile in
/// different worlds, so they cannot share a file; they must not drift apart,
/// or an item would type-check differently when it falls back.
#[test]
fn bake_as_conversions_are_the_same_at_build_and_run_time() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let rules = |path: &str| -> std::collections::BTreeSet<String> {
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        let mut in_list = false;
        text.lines()
            .map(str::trim)
            .filter(|l| {
                if l.starts_with("identity!(") || l.starts_with("tuples! {") {
                    in_list = true;
                } else if *l == ");" || *l == "}" {
                    in_list = false;
                }
                in_list || (l.starts_with("impl") && l.contains("BakeAs"))
            })
            .map(str::to_owned)
            .collect()
    };
    let build_time = rules("build-support/src/eval/harness.rs");
    let run_time = rules("src/staged/support.rs");
    assert!(build_time.len() > 20, "{build_time:?}");
    assert_eq!(build_time, run_time);
}
