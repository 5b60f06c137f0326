//! The names staged gives what it writes in a store, and how each is
//! recognized: pruning, clearing and sweeping `tmp/` touch only entries of
//! these shapes, so a file a user put in a store is never removed, and a
//! directory is taken for a store made before stores were tagged only when
//! everything in it has one of them.
//!
//! ```text
//! obj/<digest>.so           idx/<key>            lock/<key>.lock
//! tmp/build.<pid>.<n>.<t>   tmp/.<name>.<pid>.<n>.<t>  (a file on its way in)
//! eval/<key>                eval/blobs/<digest>.bin    support/<key>
//! ```
//!
//! Digests and keys are 64 lowercase hex digits (a [`Hash32`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::hash::Hash32;

/// The folders of a store, as [`Store::open`](super::Store::open) makes
/// them, then the areas made on demand.
pub(crate) const FOLDERS: [&str; 4] = [OBJ, "idx", "lock", "tmp"];
/// The folder of libraries.
const OBJ: &str = "obj";
/// The area of evaluated `const_init!` blocks.
pub const EVAL_AREA: &str = "eval";
/// The folder of large `const_init!` values, in [`EVAL_AREA`].
pub const BLOBS: &str = "blobs";
/// The area of the support libraries run-time libraries link
/// ([`Kind::Support`](super::Kind::Support)).
pub const SUPPORT_AREA: &str = "support";

/// The name of the object `digest` in `obj/`.
pub(crate) fn object_name(digest: &Hash32) -> String {
    format!("{digest}.so")
}

/// Where the object `digest` lives in any store, from its root
/// (`obj/<digest>.so`): for messages about a library that may have come
/// from any of several stores.
pub fn object_path(digest: &Hash32) -> PathBuf {
    Path::new(OBJ).join(object_name(digest))
}

/// The digest that names the object `name` of `obj/`, if it is one.
pub(crate) fn object_digest(name: &str) -> Option<Hash32> {
    name.strip_suffix(".so")
        .filter(|digest| is_key(digest))
        .and_then(Hash32::parse)
}

/// A name no other writer picks: `.<base>.<pid>.<counter>.<nanos>`.
pub(crate) fn unique_name(base: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        ".{base}.{}.{n}.{nanos:08x}",
        rustix::process::getpid().as_raw_nonzero()
    )
}

/// 64 lowercase hex digits: a digest or a key, as [`Hash32`] prints.
pub(crate) fn is_key(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `obj/<digest>.so`.
pub(crate) fn is_object(name: &str) -> bool {
    object_digest(name).is_some()
}

/// `lock/<key>.lock`.
pub(crate) fn is_lock(name: &str) -> bool {
    name.strip_suffix(".lock").is_some_and(is_key)
}

/// `eval/blobs/<digest>.bin`.
pub(crate) fn is_blob(name: &str) -> bool {
    name.strip_suffix(".bin").is_some_and(is_key)
}

/// A build directory under `tmp/`: `build.<pid>.<n>.<t>`.
pub(crate) fn is_build_dir(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("build.") else {
        return false;
    };
    let mut parts = rest.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(pid), Some(n), Some(t), None) => is_unique_suffix(pid, n, t),
        _ => false,
    }
}

/// A file on its way in under `tmp/`: `.<name>.<pid>.<n>.<t>`.
pub(crate) fn is_temp_file(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    let mut parts = rest.rsplitn(4, '.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(t), Some(n), Some(pid), Some(base)) => {
            !base.is_empty() && is_unique_suffix(pid, n, t)
        }
        _ => false,
    }
}

/// An entry of `tmp/`: a build directory or a file on its way in.
pub(crate) fn is_in_tmp(name: &str) -> bool {
    is_build_dir(name) || is_temp_file(name)
}

/// How [`unique_name`] ends: a decimal pid and counter, hex nanoseconds.
fn is_unique_suffix(pid: &str, n: &str, t: &str) -> bool {
    let decimal = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let hex = !t.is_empty() && t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    decimal(pid) && decimal(n) && hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_staged_writes_are_recognized() {
        let key = Hash32::of_bytes(b"k");
        assert!(is_key(&key.to_string()));
        assert!(is_object(&object_name(&key)));
        assert_eq!(object_digest(&object_name(&key)), Some(key));
        assert_eq!(
            object_path(&key),
            Path::new("obj").join(format!("{key}.so"))
        );
        assert!(is_lock(&format!("{key}.lock")));
        assert!(is_blob(&format!("{key}.bin")));
        let build = unique_name("build");
        assert!(is_build_dir(build.trim_start_matches('.')), "{build}");
        for base in [key.to_string(), format!("{key}.bin"), "CACHEDIR.TAG".into()] {
            let temp = unique_name(&base);
            assert!(is_temp_file(&temp), "{temp}");
            assert!(is_in_tmp(&temp) && !is_build_dir(&temp));
        }
    }

    #[test]
    fn a_users_names_are_not_staged_names() {
        let key = Hash32::of_bytes(b"k").to_string();
        for name in [
            "notes.txt",
            "readme.so",
            &key.to_uppercase(),
            &key[1..],
            &format!("{key}.so.bak"),
            &format!("{key}.txt"),
            "build",
            "build.1.2",
            "build.x.2.3",
            "build.1.2.3.4",
            "build-dead",
            ".bashrc",
            ".cache",
            "..1.2.3",
            ".x.1.2.g",
        ] {
            assert!(
                !is_key(name) && !is_object(name) && !is_lock(name),
                "{name}"
            );
            assert!(!is_blob(name) && !is_in_tmp(name), "{name}");
        }
    }
}
