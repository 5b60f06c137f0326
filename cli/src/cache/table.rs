//! Pieces shared by the cache's listings: short names and ages, as people
//! read them.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use crate::units;

/// How many hex digits of a digest or key a listing shows.
pub const SHORT: usize = 12;

/// `name` with a leading 64-digit digest cut to [`SHORT`] digits, its
/// extension kept (`3f0ce1a2b4c5.lock`); other names as they are.
pub fn short(name: &str) -> String {
    match name.get(..64) {
        Some(head) if head.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("{}{}", &head[..SHORT], &name[64..])
        }
        _ => name.to_owned(),
    }
}

/// How long ago `modified` was: `3m`; a time in the future reads `0s`.
pub fn age(modified: SystemTime, now: SystemTime) -> String {
    units::format_age(now.duration_since(modified).unwrap_or(Duration::ZERO))
}

/// The lines of one section of a listing (name, size, age, detail),
/// aligned when written.
#[derive(Debug, Default)]
pub struct Rows {
    rows: Vec<[String; 4]>,
}

impl Rows {
    /// Adds a line.
    pub fn push(&mut self, name: &str, size: &str, age: &str, detail: &str) {
        self.rows.push([name, size, age, detail].map(str::to_owned));
    }

    /// Writes the lines, the name left-aligned, the size and age right.
    pub fn write_to(&self, out: &mut String) {
        let width = |c: usize| self.rows.iter().map(|r| r[c].len()).max().unwrap_or(0);
        let (name, size, age) = (width(0), width(1), width(2));
        for [n, s, a, d] in &self.rows {
            let line = format!("  {n:<name$}  {s:>size$}  {a:>age$}  {d}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_cut_and_other_names_kept() {
        let digest = "ab".repeat(32);
        assert_eq!(short(&digest), "abababababab");
        assert_eq!(short(&format!("{digest}.lock")), "abababababab.lock");
        assert_eq!(short("build.12.0.ff"), "build.12.0.ff");
        assert_eq!(short(&"z".repeat(70)), "z".repeat(70));
        let wide = format!("{}é{}", "a".repeat(63), "b".repeat(10));
        assert_eq!(short(&wide), wide);
    }

    #[test]
    fn rows_line_up() {
        let mut rows = Rows::default();
        rows.push("abc", "1.0 KiB", "5d", "demo::power 13u32");
        rows.push("", "", "", "demo::power 7u32");
        rows.push("build.12.0.ff", "3 B", "10m", "");
        let mut out = String::new();
        rows.write_to(&mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "  abc            1.0 KiB   5d  demo::power 13u32");
        assert_eq!(lines[1].find("demo"), lines[0].find("demo"), "{out}");
        assert_eq!(lines[1].trim_start(), "demo::power 7u32");
        assert_eq!(lines[2], "  build.12.0.ff      3 B  10m");
    }
}
