//! Every error says each thing once: a level's `Display` describes that
//! level, and its cause is `source()`, never both. A reporter that walks
//! the chain (as `stats().last_error` and the log lines do) then prints each
//! cause once, and still prints all of them.
#![allow(missing_docs)]

use std::error::Error as StdError;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use staged::runtime::{self, CommandLine, ProcessError, StoreError};
use staged_build::chain::Chain;
use staged_build::eval::EvalError;

const OS_MESSAGE: &str = "the disk said no";

fn io_error() -> Arc<io::Error> {
    Arc::new(io::Error::new(io::ErrorKind::PermissionDenied, OS_MESSAGE))
}

fn store_io() -> StoreError {
    StoreError::Io {
        path: PathBuf::from("/cache/index/ab12"),
        cause: io_error(),
    }
}

fn store_corrupt() -> StoreError {
    StoreError::Corrupt {
        path: PathBuf::from("/cache/objects/cd34"),
        reason: "its digest is not its name".to_owned(),
    }
}

fn command() -> CommandLine {
    CommandLine(vec!["rustc".to_owned(), "--crate-type=cdylib".to_owned()])
}

fn process_errors() -> Vec<ProcessError> {
    vec![
        ProcessError::NotFound {
            program: "rustc".to_owned(),
            cause: "No such file or directory".to_owned(),
            hint: "set STAGED_RUSTC",
        },
        ProcessError::Failed {
            command: command(),
            status: "exit status: 1".to_owned(),
            stderr: "error[E0308]: mismatched types".to_owned(),
        },
        ProcessError::TimedOut {
            command: command(),
            limit: Duration::from_secs(60),
        },
    ]
}

/// One error per variant that carries a cause, at every depth it is met.
fn runtime_errors() -> Vec<runtime::Error> {
    let mut all = vec![
        runtime::Error::Store(store_io()),
        runtime::Error::Store(store_corrupt()),
    ];
    for p in process_errors() {
        all.push(runtime::Error::Rustc(p.clone()));
        all.push(runtime::Error::Compile(p));
    }
    all
}

fn eval_errors() -> Vec<EvalError> {
    let mut all = vec![
        EvalError::Store(store_io()),
        EvalError::File {
            path: PathBuf::from("/build/eval/main.rs"),
            cause: io_error(),
        },
    ];
    all.extend(process_errors().into_iter().map(EvalError::Process));
    all
}

/// Each level of the chain of `top`, as text.
fn levels(top: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = vec![top.to_string()];
    let mut cause = top.source();
    while let Some(c) = cause {
        out.push(c.to_string());
        cause = c.source();
    }
    out
}

fn assert_said_once(top: &(dyn StdError + 'static)) {
    let levels = levels(top);
    for pair in levels.windows(2) {
        assert!(!pair[1].is_empty(), "an empty level in {levels:#?}");
        assert!(
            !pair[0].contains(&pair[1]),
            "a level repeats its source's text: {levels:#?}"
        );
    }
    assert_eq!(Chain(top).to_string(), levels.join(": "));
}

#[test]
fn no_level_of_a_chain_repeats_its_source() {
    let mut checked = 0;
    for e in process_errors() {
        assert_said_once(&e);
        checked += 1;
    }
    for e in [store_io(), store_corrupt()] {
        assert_said_once(&e);
        checked += 1;
    }
    for e in eval_errors() {
        assert_said_once(&e);
        checked += 1;
    }
    for e in runtime_errors() {
        assert_said_once(&e);
        // The facade's variant is transparent: the same text, the same cause.
        let facade = staged::Error::Runtime(e.clone());
        assert_eq!(facade.to_string(), e.to_string());
        assert_eq!(levels(&facade), levels(&e));
        assert_said_once(&facade);
        checked += 2;
    }
    assert!(checked > 20);
}

#[test]
fn the_whole_chain_still_holds_every_cause() {
    let e = staged::Error::Runtime(runtime::Error::Store(store_io()));
    let levels = levels(&e);
    assert_eq!(levels.len(), 3, "{levels:#?}");
    let line = Chain(&e).to_string();
    assert!(line.starts_with("disk cache: /cache/index/ab12"), "{line}");
    assert!(line.ends_with(OS_MESSAGE), "{line}");

    let e = runtime::Error::Compile(process_errors().swap_remove(1));
    let line = Chain(&e).to_string();
    assert!(line.starts_with("the variant did not compile: `rustc --crate-type=cdylib` failed"));
    assert!(line.contains("mismatched types"), "{line}");

    let e = EvalError::File {
        path: PathBuf::from("/build/eval/main.rs"),
        cause: io_error(),
    };
    assert_eq!(
        Chain(&e).to_string(),
        format!("/build/eval/main.rs: {OS_MESSAGE}")
    );
}

#[test]
fn an_unavailable_value_has_no_cause() {
    #[staged::specialize(n = [1], runtime = false)]
    fn f(x: u32, n: u32) -> u32 {
        x + n
    }
    let Err(e) = f::specialized(2) else {
        panic!("no variant for 2 with runtime = false")
    };
    assert!(e.source().is_none());
    assert!(e.to_string().contains("runtime = false"), "{e}");
}
