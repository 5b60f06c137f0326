//! Fills a cache with fake entries through staged-build's store, to measure
//! `staged cache stats|list` on a cache of a given size (no rustc needed:
//! the libraries are bytes).
//!
//! ```text
//! cargo run -p staged-cli --example fill_cache -- DIR LIBRARIES [CONST_INITS]
//! ```
//!
//! Makes LIBRARIES libraries of 4 KiB, each with an index entry saying
//! which value of `demo::power` it serves, and CONST_INITS (default 0)
//! evaluated `const_init!` blocks of 1 KiB, with ages spread over a week.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use staged_build::store::{EVAL_AREA, Hash32, IndexEntry, Serves, Store};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, libraries, inits) = match args.as_slice() {
        [dir, n] => (dir, n.parse().ok(), Some(0)),
        [dir, n, m] => (dir, n.parse().ok(), m.parse().ok()),
        _ => (&String::new(), None, None),
    };
    let (Some(libraries), Some(inits)) = (libraries, inits) else {
        eprintln!("usage: fill_cache DIR LIBRARIES [CONST_INITS]");
        return ExitCode::from(2);
    };
    match fill(&PathBuf::from(dir), libraries, inits) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fill_cache: {e}");
            ExitCode::FAILURE
        }
    }
}

fn fill(
    dir: &std::path::Path,
    libraries: u32,
    inits: u32,
) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(dir)?;
    let week = 7 * 24 * 3600;
    for n in 0..libraries {
        let build = store.build_dir()?;
        let mut bytes = vec![0u8; 4096];
        bytes[..4].copy_from_slice(&n.to_le_bytes());
        build.write("out.so", &bytes)?;
        let object = store.publish_object(&build, "out.so")?;
        let entry = IndexEntry {
            key: Hash32::of_bytes(format!("power {n}").as_bytes()),
            symbol: "staged_entry_0".to_owned(),
            serves: Serves {
                function: "demo::power".to_owned(),
                values: vec![format!("{n}u32")],
            },
        };
        store.publish_index(&object.digest, &entry)?;
        let age = Duration::from_secs(u64::from(n) * week / u64::from(libraries.max(1)));
        std::fs::File::open(object.path())?.set_modified(SystemTime::now() - age)?;
    }
    let eval = store.area(EVAL_AREA)?;
    for n in 0..inits {
        let name = Hash32::of_bytes(format!("init {n}").as_bytes()).to_string();
        eval.write(&name, &[b'x'; 1024])?;
    }
    Ok(())
}
