//! The evaluator with the real rustc, without the macro: blocks written as
//! text, one token per word.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::*;
use crate::rustc::Rustc;

fn toolchain() -> Toolchain {
    let rustc = Rustc::probe(Path::new("rustc"), None, Duration::from_secs(60)).unwrap();
    Toolchain {
        rustc: PathBuf::from("rustc"),
        version: rustc.version,
        ..Toolchain::default()
    }
}

fn config(dir: &Path) -> EvalConfig {
    let mut config = EvalConfig::from_env();
    config.cache_dir = Some(dir.to_owned());
    config
}

fn fragment(text: &str) -> Fragment {
    let mut marks = Vec::new();
    let mut at = 0;
    for (i, word) in text.split(' ').enumerate() {
        marks.push((at, 1000 + i));
        at += word.len() + 1;
    }
    Fragment {
        text: text.to_owned(),
        marks,
    }
}

fn item(name: &str, ty: &str, init: &str) -> Item {
    Item {
        name: name.to_owned(),
        eval_type: ty.to_owned(),
        init: fragment(init),
        convert: ty.contains('&'),
        ..Item::default()
    }
}

fn block(key: &str, items: Vec<Item>) -> Block {
    Block {
        key_text: key.to_owned(),
        edition: "2021".to_owned(),
        helpers: vec![fragment("fn double ( x : u32 ) -> u32 { x * 2 }")],
        items,
        ..Block::default()
    }
}

#[test]
fn a_block_is_evaluated_once_then_read_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let mut uses = item(
        "B",
        "[u32; _]",
        "std::array::from_fn::<u32, 3, _>(|i| double(A + i as u32))",
    );
    uses.uses = vec![0];
    let block = block(
        "cache test",
        vec![
            item("A", "u32", "20 + 1"),
            uses,
            item("C", "&'static [&'static str]", "vec![String::from(\"x\")]"),
        ],
    );
    let first = evaluate(&block, &toolchain(), &config(dir.path())).unwrap();
    assert!(!first.cached);
    // The store it made is tagged as the runtime's are.
    let tag = std::fs::read_to_string(dir.path().join(crate::store::TAG)).unwrap();
    assert!(tag.contains("created by staged"), "{tag}");
    assert_eq!(
        first.items,
        [
            ItemOutcome::Baked("21u32".into()),
            ItemOutcome::Baked("[42u32, 44u32, 46u32]".into()),
            ItemOutcome::Baked("&[\"x\"]".into()),
        ]
    );
    let start = Instant::now();
    let second = evaluate(&block, &toolchain_cached(), &config(dir.path())).unwrap();
    let hit = start.elapsed();
    assert!(second.cached);
    assert_eq!(second.items, first.items);
    // The target is 10 ms; the bound leaves room for a loaded machine.
    assert!(hit < Duration::from_millis(200), "a hit took {hit:?}");
}

/// The same compiler, known without running it again.
fn toolchain_cached() -> Toolchain {
    static TOOLCHAIN: std::sync::OnceLock<Toolchain> = std::sync::OnceLock::new();
    TOOLCHAIN.get_or_init(toolchain).clone()
}

#[test]
fn failures_are_per_item_and_time_outs_are_not_cached() {
    let dir = tempfile::tempdir().unwrap();
    let mut block = block(
        "failure test",
        vec![
            item("P", "u8", "panic! ( \"no {}\" , 1 )"),
            item("T", "u8", "loop { std::hint::black_box ( 0 ) ; }"),
            item("A", "u8", "std::process::abort ( )"),
            item("OK", "u8", "7"),
        ],
    );
    block.timeout = Some(Duration::from_millis(500));
    let outcome = evaluate(&block, &toolchain_cached(), &config(dir.path())).unwrap();
    let ItemOutcome::Failed(Failure::Panicked { message, token }) = &outcome.items[0] else {
        panic!("{:?}", outcome.items[0])
    };
    assert_eq!(message, "no 1");
    assert_eq!(*token, Some(1000), "the panic is at `panic!`");
    assert_eq!(
        outcome.items[1],
        ItemOutcome::Failed(Failure::TimedOut {
            limit: Duration::from_millis(500)
        })
    );
    assert!(
        matches!(&outcome.items[2], ItemOutcome::Failed(Failure::Crashed { status, .. }) if status.contains("signal 6")),
        "{:?}",
        outcome.items[2]
    );
    assert_eq!(outcome.items[3], ItemOutcome::Baked("7u8".into()));
    let again = evaluate(&block, &toolchain_cached(), &config(dir.path())).unwrap();
    assert!(!again.cached, "a time-out may not happen next time");
}

#[test]
fn compile_errors_map_to_tokens_and_spare_fallback_items() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = item("F", "u8", "undefined_name + 1");
    bad.fallback = true;
    let mut dependent = item("G", "u8", "* F + 1");
    dependent.uses = vec![0];
    dependent.fallback = true;
    let block_ok = block(
        "fallback test",
        vec![bad.clone(), dependent, item("H", "u8", "3")],
    );
    let outcome = evaluate(&block_ok, &toolchain_cached(), &config(dir.path())).unwrap();
    assert!(outcome.errors.is_empty());
    let ItemOutcome::Failed(Failure::DoesNotCompile { errors }) = &outcome.items[0] else {
        panic!("{:?}", outcome.items[0])
    };
    assert!(
        errors[0]
            .message
            .starts_with("cannot find value `undefined_name`")
    );
    assert_eq!(errors[0].tokens, Some((1000, 1000)));
    assert_eq!(
        outcome.items[1],
        ItemOutcome::Failed(Failure::UsesFailed { item: 0 })
    );
    assert_eq!(outcome.items[2], ItemOutcome::Baked("3u8".into()));

    bad.fallback = false;
    let block_bad = block("error test", vec![bad, item("H", "u8", "3")]);
    let outcome = evaluate(&block_bad, &toolchain_cached(), &config(dir.path())).unwrap();
    assert_eq!(outcome.errors.len(), 1);
    assert_eq!(outcome.errors[0].item, Some(0));
    assert_eq!(outcome.items[1], ItemOutcome::Failed(Failure::NotRun));
}

#[test]
fn a_panic_message_naming_an_item_is_a_panic_and_a_failed_item_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let message = "uses `A`, which could not be evaluated";
    let mut later = item("C", "u8", "A + 1");
    later.uses = vec![0];
    let block = block(
        "uses test",
        vec![
            item("A", "u8", "panic! ( \"boom\" )"),
            item("B", "u8", &format!("panic! ( {message:?} )")),
            later,
        ],
    );
    let outcome = evaluate(&block, &toolchain_cached(), &config(dir.path())).unwrap();
    assert!(
        matches!(&outcome.items[1], ItemOutcome::Failed(Failure::Panicked { message: m, .. }) if m == message),
        "{:?}",
        outcome.items[1]
    );
    assert_eq!(
        outcome.items[2],
        ItemOutcome::Failed(Failure::UsesFailed { item: 0 })
    );
    let again = evaluate(&block, &toolchain_cached(), &config(dir.path())).unwrap();
    assert!(again.cached);
    assert_eq!(again.items, outcome.items);
}

#[test]
fn a_value_past_the_record_limit_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let block = block(
        "record limit test",
        vec![
            item("BIG", "&'static str", "\"x\" . repeat ( 1 << 20 )"),
            item("AFTER", "u8", "3"),
        ],
    );
    let mut config = config(dir.path());
    config.record_limit = 64 << 10;
    let outcome = evaluate(&block, &toolchain_cached(), &config).unwrap();
    assert_eq!(
        outcome.items,
        [
            ItemOutcome::Failed(Failure::TooLarge { limit: 64 << 10 }),
            ItemOutcome::Baked("3u8".into()),
        ]
    );
}

/// An allocation past the memory limit fails the item that made it, with
/// the limit and the size asked for; one that fails and is handled
/// (`try_reserve`) fails nothing.
#[test]
fn an_item_past_the_memory_limit_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let block = block(
        "memory limit test",
        vec![
            item(
                "HANDLED",
                "bool",
                "Vec :: < u8 > :: new ( ) . try_reserve ( 1 << 40 ) . is_err ( )",
            ),
            item("GREEDY", "usize", "vec! [ 1u8 ; 1 << 30 ] . len ( )"),
            item("AFTER", "u8", "3"),
        ],
    );
    let mut config = config(dir.path());
    config.max_memory = 64 << 20;
    let outcome = evaluate(&block, &toolchain_cached(), &config).unwrap();
    assert_eq!(
        outcome.items,
        [
            ItemOutcome::Baked("true".into()),
            ItemOutcome::Failed(Failure::OutOfMemory {
                limit: 64 << 20,
                requested: 1 << 30
            }),
            ItemOutcome::Baked("3u8".into()),
        ]
    );
}

#[test]
fn the_evaluator_compiles_through_a_rustc_wrapper() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("wrapped");
    let script = dir.path().join("wrap.sh");
    // Cargo's convention: the wrapper gets the compiler as its first
    // argument.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec \"$@\"\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let found = crate::rustc::wrapper(script.to_str().unwrap());
    assert_eq!(found.as_deref(), Some(script.as_path()));
    let toolchain = Toolchain {
        wrapper: found,
        ..toolchain_cached()
    };
    let block = block("wrapper test", vec![item("A", "u32", "double ( 4 )")]);
    let outcome = evaluate(&block, &toolchain, &config(&dir.path().join("cache"))).unwrap();
    assert_eq!(outcome.items, [ItemOutcome::Baked("8u32".into())]);
    let seen = std::fs::read_to_string(&marker).expect("the wrapper was not run");
    assert!(seen.starts_with("rustc "), "{seen}");
    assert!(seen.contains("--crate-name staged_eval"), "{seen}");
}
