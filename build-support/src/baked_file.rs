//! For build scripts: bake values computed in `build.rs` (which can use
//! build-dependencies: parsers, data crates) into a source file under
//! `OUT_DIR`, with the same renderer as `const_init!`, for the crate to
//! `include!`.
//!
//! ```no_run
//! // build.rs
//! use staged_build::baked_file::BakedFile;
//!
//! let squares: Vec<u64> = (0..100_000u64).map(|i| i * i).collect();
//! let mut file = BakedFile::new();
//! file.add_static("SQUARES", &squares).doc("`i * i` for every `i` below 100 000.");
//! file.add_const("NAMES", &vec!["alpha".to_string(), "beta".to_string()]);
//! file.write_to_out_dir("tables.rs").unwrap();
//! ```
//!
//! ```text
//! // src/lib.rs
//! include!(concat!(env!("OUT_DIR"), "/tables.rs"));
//! ```
//!
//! The file holds `pub static SQUARES: &'static [u64] = …;` and
//! `pub const NAMES: &'static [&'static str] = …;`: types follow the values
//! (`Vec<T>` becomes `&'static [T]`, `String` becomes `&'static str`).
//! Large numeric arrays go to files next to it, one per target endianness,
//! read with `include_bytes!` and rebuilt with
//! `staged::__const_init::from_bytes`, so a crate whose baked file has such
//! arrays depends on `staged` (without default features is enough); with
//! [`BakedFile::inline_only`] everything stays in the file and nothing but
//! `core` is needed.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use crate::bake::{Bake, BakeType, Baker};
use crate::emit::{self, BlobSink, Inline};

/// Blobs up to this size stay in the file as byte strings.
const INLINE_MAX_BYTES: usize = 64 * 1024;

/// A source file of baked items, built up in a build script.
#[derive(Debug, Default)]
pub struct BakedFile {
    items: Vec<BakedItem>,
    inline_only: bool,
}

/// One item of a [`BakedFile`]; its methods set how it is declared.
#[derive(Debug)]
pub struct BakedItem {
    keyword: &'static str,
    name: String,
    ty: String,
    value: Baker,
    vis: String,
    docs: Vec<String>,
    attributes: Vec<String>,
}

impl BakedItem {
    /// Sets the visibility (`"pub"` by default; `""` for private,
    /// `"pub(crate)"`).
    pub fn vis(&mut self, vis: &str) -> &mut Self {
        self.vis = vis.to_owned();
        self
    }

    /// Adds a line of documentation.
    pub fn doc(&mut self, line: &str) -> &mut Self {
        self.docs.push(line.to_owned());
        self
    }

    /// Adds an attribute, written as in source: `#[unsafe(no_mangle)]`.
    pub fn attribute(&mut self, attribute: &str) -> &mut Self {
        self.attributes.push(attribute.to_owned());
        self
    }
}

impl BakedFile {
    /// An empty file.
    pub fn new() -> Self {
        Self::default()
    }

    /// A file that keeps every value in its text, however large: it then
    /// needs nothing but `core`, at the price of one token per number.
    pub fn inline_only() -> Self {
        Self {
            inline_only: true,
            ..Self::default()
        }
    }

    /// Adds `pub static NAME: <type> = <value>;`.
    ///
    /// # Panics
    ///
    /// When `name` is not an identifier.
    pub fn add_static<T: Bake + BakeType + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
    ) -> &mut BakedItem {
        self.add("static", name, value)
    }

    /// Adds `pub const NAME: <type> = <value>;`.
    ///
    /// # Panics
    ///
    /// When `name` is not an identifier.
    pub fn add_const<T: Bake + BakeType + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
    ) -> &mut BakedItem {
        self.add("const", name, value)
    }

    fn add<T: Bake + BakeType + ?Sized>(
        &mut self,
        keyword: &'static str,
        name: &str,
        value: &T,
    ) -> &mut BakedItem {
        assert!(is_identifier(name), "`{name}` is not an identifier");
        let mut baker = if self.inline_only {
            Baker::inline()
        } else {
            Baker::new()
        };
        value.bake_into(&mut baker);
        self.items.push(BakedItem {
            keyword,
            name: name.to_owned(),
            ty: T::type_text(),
            value: baker,
            vis: "pub".to_owned(),
            docs: Vec::new(),
            attributes: Vec::new(),
        });
        self.items.last_mut().expect("just pushed")
    }

    /// The file's text, with large blobs written by `sink`.
    ///
    /// # Errors
    ///
    /// When `sink` cannot store a blob.
    pub fn render(&self, sink: &mut dyn BlobSink) -> io::Result<String> {
        let mut out = String::from("// Baked by staged-build. Generated; not for editing.\n");
        for item in &self.items {
            out.push('\n');
            for line in &item.docs {
                let _ = writeln!(out, "#[doc = {}]", line.to_literal());
            }
            for attribute in &item.attributes {
                let _ = writeln!(out, "{attribute}");
            }
            let expr = emit::value_expr(&item.name, &item.value, sink)?;
            let vis = if item.vis.is_empty() {
                String::new()
            } else {
                format!("{} ", item.vis)
            };
            let _ = writeln!(
                out,
                "{vis}{} {}: {} = {expr};",
                item.keyword, item.name, item.ty
            );
        }
        Ok(out)
    }

    /// Writes the file as `dir/file_name`, with large blobs in files next
    /// to it named after it, pulled in by absolute path; returns its path.
    ///
    /// # Errors
    ///
    /// When a file cannot be written.
    pub fn write(&self, dir: &Path, file_name: &str) -> io::Result<PathBuf> {
        let mut sink = FileSink {
            dir: dir.to_owned(),
            file_name: file_name.to_owned(),
            count: 0,
            reference: Reference::Absolute,
        };
        self.write_with(&mut sink)
    }

    /// Writes the file as `$OUT_DIR/file_name`, its blobs pulled in
    /// relative to `OUT_DIR` (so the generated source does not depend on
    /// where the build happens); returns its path.
    ///
    /// # Errors
    ///
    /// When `OUT_DIR` is not set (not in a build script) or a file cannot
    /// be written.
    pub fn write_to_out_dir(&self, file_name: &str) -> io::Result<PathBuf> {
        #[allow(clippy::disallowed_methods)] // cargo's variable for build scripts
        let dir = std::env::var_os("OUT_DIR").ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "OUT_DIR is not set: call this from build.rs",
            )
        })?;
        let mut sink = FileSink {
            dir: PathBuf::from(dir),
            file_name: file_name.to_owned(),
            count: 0,
            reference: Reference::OutDir,
        };
        self.write_with(&mut sink)
    }

    fn write_with(&self, sink: &mut FileSink) -> io::Result<PathBuf> {
        let text = self.render(sink)?;
        let path = sink.dir.join(&sink.file_name);
        write_if_changed(&path, text.as_bytes())?;
        Ok(path)
    }
}

enum Reference {
    Absolute,
    OutDir,
}

struct FileSink {
    dir: PathBuf,
    file_name: String,
    count: usize,
    reference: Reference,
}

impl FileSink {
    fn store(&mut self, bytes: &[u8]) -> io::Result<String> {
        let name = format!("{}.{}.bin", self.file_name, self.count);
        self.count += 1;
        let path = self.dir.join(&name);
        write_if_changed(&path, bytes)?;
        Ok(match self.reference {
            Reference::OutDir => format!(
                "::core::concat!(::core::env!(\"OUT_DIR\"), {})",
                format!("/{name}").to_literal()
            ),
            Reference::Absolute => path
                .to_str()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path is not UTF-8"))?
                .to_literal(),
        })
    }
}

impl BlobSink for FileSink {
    fn bytes(&mut self, bytes: &[u8]) -> io::Result<String> {
        if bytes.len() <= INLINE_MAX_BYTES {
            return Inline.bytes(bytes);
        }
        Ok(format!("::core::include_bytes!({})", self.store(bytes)?))
    }

    fn str(&mut self, text: &str) -> io::Result<String> {
        if text.len() <= INLINE_MAX_BYTES {
            return Inline.str(text);
        }
        Ok(format!(
            "::core::include_str!({})",
            self.store(text.as_bytes())?
        ))
    }
}

/// Leaves an unchanged file alone, so cargo does not rebuild for nothing.
fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes)
}

fn is_identifier(name: &str) -> bool {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_take_the_types_of_their_values() {
        let mut file = BakedFile::new();
        file.add_static("CRC", &[1u32, 2]).doc("A table.");
        file.add_const("NAMES", &vec!["a".to_string()])
            .vis("pub(crate)");
        file.add_static("PAIR", &(Some(1.5f64), 'x'))
            .vis("")
            .attribute("#[unsafe(no_mangle)]");
        let text = file.render(&mut Inline).unwrap();
        assert_eq!(
            text,
            "// Baked by staged-build. Generated; not for editing.\n\
             \n#[doc = \"A table.\"]\npub static CRC: [u32; 2] = [1u32, 2u32];\n\
             \npub(crate) const NAMES: &'static [&'static str] = &[\"a\"];\n\
             \n#[unsafe(no_mangle)]\nstatic PAIR: (::core::option::Option<f64>, char, ) = \
             (::core::option::Option::Some(::core::primitive::f64::from_bits(0x3ff8000000000000u64)), 'x', );\n"
        );
    }

    #[test]
    fn large_arrays_go_to_files_next_to_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u16> = (0..40_000).collect();
        let mut file = BakedFile::new();
        file.add_static("BIG", &big);
        let path = file.write(dir.path(), "tables.rs").unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let le = dir.path().join("tables.rs.0.bin");
        assert!(
            text.contains(&format!(
                "::core::include_bytes!({})",
                le.to_str().unwrap().to_literal()
            )),
            "{text}"
        );
        assert_eq!(std::fs::read(&le).unwrap()[2..4], 1u16.to_le_bytes());
        assert_eq!(
            std::fs::read(dir.path().join("tables.rs.1.bin")).unwrap()[2..4],
            1u16.to_be_bytes()
        );
        let mut inline = BakedFile::inline_only();
        inline.add_static("BIG", &big);
        assert!(inline.render(&mut Inline).unwrap().contains("39999u16"));
    }

    #[test]
    #[should_panic(expected = "`not an ident` is not an identifier")]
    fn names_must_be_identifiers() {
        BakedFile::new().add_static("not an ident", &1u8);
    }
}
