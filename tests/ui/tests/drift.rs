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
    let build_time = definitions(&read(root, "build-support/src/eval/harness.rs"));
    let run_time = definitions(&read(root, "src/staged/support.rs"));
    assert!(build_time.len() > 12, "{build_time:#?}");
    let only = |a: &Set, b: &Set| a.difference(b).cloned().collect::<Vec<_>>();
    assert!(
        build_time == run_time,
        "only at build time: {:#?}\nonly at run time: {:#?}",
        only(&build_time, &run_time),
        only(&run_time, &build_time)
    );
}

type Set = std::collections::BTreeSet<String>;

fn read(root: &std::path::Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path)).unwrap()
}

/// Every whole definition of the conversion in `text`: the trait, the
/// `identity!` macro and its list, `leak`, and each `impl … BakeAs`, from
/// its first line to the one that closes it, each line trimmed (the
/// run-time copy sits in a module, so it is indented further).
fn definitions(text: &str) -> Set {
    let starts = |l: &str| {
        l.starts_with("pub trait BakeAs")
            || l.starts_with("macro_rules! identity")
            || l.starts_with("identity!(")
            || l.starts_with("fn leak")
            || (l.starts_with("impl") && l.contains("BakeAs"))
    };
    let mut out = Set::new();
    let mut lines = text.lines().map(str::trim).peekable();
    while let Some(line) = lines.next() {
        if !starts(line) {
            continue;
        }
        let mut block = vec![line.to_owned()];
        let mut depth = nesting(line);
        while depth > 0 {
            let Some(next) = lines.next() else { break };
            depth += nesting(next);
            if !next.is_empty() {
                block.push(next.to_owned());
            }
        }
        out.insert(block.join("\n"));
    }
    out
}

/// How much `line` opens (`{`, `(`) minus how much it closes.
fn nesting(line: &str) -> i32 {
    line.chars()
        .map(|c| match c {
            '{' | '(' => 1,
            '}' | ')' => -1,
            _ => 0,
        })
        .sum()
}
