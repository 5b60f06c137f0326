//! From a baked value to source: the literal's text, plus one constant per
//! blob, rebuilt from bytes in a const context so that a table of a million
//! numbers costs rustc one byte string (or one `include_bytes!`) instead of a
//! million tokens.
//!
//! ```text
//! {
//!     #[cfg(target_endian = "little")]
//!     const __STAGED_BLOB_0: [u32; 1000000] =
//!         ::staged::__const_init::from_bytes(*include_bytes!("…/3f2a….bin"));
//!     #[cfg(target_endian = "big")]
//!     const __STAGED_BLOB_0: [u32; 1000000] = …;
//!     &__STAGED_BLOB_0
//! }
//! ```
//!
//! Numbers are stored per target endianness, and `usize`/`isize` also per
//! pointer width; a width that cannot hold a value gets a `compile_error!`
//! instead, so the value fails to build only where it does not fit.

use std::fmt::Write as _;
use std::io;

use crate::bake::{Bake, Baker, Blob, BlobKind, Scalar, bake_byte_string};

/// The function the expansion calls to turn bytes into numbers in a const
/// context (`staged::__const_init::from_bytes`).
pub const FROM_BYTES: &str = "::staged::__const_init::from_bytes";

/// Where blob bytes go.
pub trait BlobSink {
    /// An expression of type `&'static [u8; N]` for `bytes`.
    ///
    /// # Errors
    ///
    /// When the bytes cannot be stored (a file that cannot be written).
    fn bytes(&mut self, bytes: &[u8]) -> io::Result<String>;

    /// An expression of type `&'static str` for `text`.
    ///
    /// # Errors
    ///
    /// As for [`BlobSink::bytes`].
    fn str(&mut self, text: &str) -> io::Result<String>;
}

/// Keeps every blob in the source, as a byte string or string literal.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inline;

impl BlobSink for Inline {
    fn bytes(&mut self, bytes: &[u8]) -> io::Result<String> {
        let mut out = String::with_capacity(bytes.len() + 3);
        bake_byte_string(bytes, &mut out);
        Ok(out)
    }

    fn str(&mut self, text: &str) -> io::Result<String> {
        Ok(text.to_literal())
    }
}

/// Writes the expression for the value in `baker`, named `name` in
/// messages.
///
/// # Errors
///
/// When `sink` cannot store a blob.
pub fn value_expr(name: &str, baker: &Baker, sink: &mut dyn BlobSink) -> io::Result<String> {
    let mut prelude = String::new();
    for (index, blob) in baker.blobs.iter().enumerate() {
        blob_consts(index, blob, sink, &mut prelude)?;
    }
    for bits in [16u32, 32] {
        if !baker.fits_pointer_width(bits) {
            let message = too_wide(name, baker, bits);
            let _ = writeln!(
                prelude,
                "#[cfg(target_pointer_width = \"{bits}\")] ::core::compile_error!({});",
                message.to_literal()
            );
        }
    }
    if prelude.is_empty() {
        return Ok(baker.text.clone());
    }
    Ok(format!("{{\n{prelude}{}\n}}", baker.text))
}

fn too_wide(name: &str, baker: &Baker, bits: u32) -> String {
    let umax = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let value = if baker.usize_max > umax {
        format!("the `usize` value {}", baker.usize_max)
    } else if baker.isize_max > (umax >> 1) as i64 {
        format!("the `isize` value {}", baker.isize_max)
    } else {
        format!("the `isize` value {}", baker.isize_min)
    };
    format!("`{name}` holds {value}, which does not fit a {bits}-bit target")
}

/// One `const` per target layout for blob `index`.
fn blob_consts(
    index: usize,
    blob: &Blob,
    sink: &mut dyn BlobSink,
    out: &mut String,
) -> io::Result<()> {
    let name = Baker::blob_name(index);
    let (scalar, ty) = match &blob.kind {
        BlobKind::Str => {
            let text = std::str::from_utf8(&blob.bytes)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let _ = writeln!(out, "const {name}: &str = {};", sink.str(text)?);
            return Ok(());
        }
        BlobKind::Plain { scalar, ty } => (*scalar, ty),
    };
    for (cfg, bytes) in layouts(scalar, &blob.bytes) {
        // Used once, right below: there is no copy to warn about.
        let mut attr = String::from("#[allow(clippy::large_const_arrays)] ");
        if let Some(cfg) = cfg {
            attr.push_str(&format!("#[cfg({cfg})] "));
        }
        let _ = writeln!(
            out,
            "{attr}const {name}: {ty} = {FROM_BYTES}(*{});",
            sink.bytes(&bytes)?
        );
    }
    Ok(())
}

/// The byte layouts of little-endian `bytes` of `scalar`s on every target
/// they fit, each with the `cfg` predicate that selects it (`None`: all).
pub fn layouts(scalar: Scalar, bytes: &[u8]) -> Vec<(Option<String>, Vec<u8>)> {
    let size = scalar.stored_size();
    if !scalar.is_pointer_sized() {
        if size == 1 {
            return vec![(None, bytes.to_vec())];
        }
        return vec![
            (Some("target_endian = \"little\"".into()), bytes.to_vec()),
            (
                Some("target_endian = \"big\"".into()),
                swap_each(bytes, size),
            ),
        ];
    }
    let mut out = Vec::new();
    for bits in [16usize, 32, 64] {
        let width = bits / 8;
        let Some(le) = narrow(scalar, bytes, width) else {
            continue;
        };
        let be = swap_each(&le, width);
        for (endian, bytes) in [("little", le), ("big", be)] {
            out.push((
                Some(format!(
                    "all(target_endian = \"{endian}\", target_pointer_width = \"{bits}\")"
                )),
                bytes,
            ));
        }
    }
    out
}

/// `usize`/`isize` values (8 little-endian bytes each) as `width`-byte
/// values, or `None` if one does not fit.
fn narrow(scalar: Scalar, bytes: &[u8], width: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() / 8 * width);
    for chunk in bytes.chunks_exact(8) {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        let fits = match scalar {
            Scalar::Usize => {
                let v = u64::from_le_bytes(eight);
                width == 8 || v >> (width * 8) == 0
            }
            _ => {
                let v = i64::from_le_bytes(eight);
                let shift = 64 - width * 8;
                width == 8 || (v << shift) >> shift == v
            }
        };
        if !fits {
            return None;
        }
        out.extend_from_slice(&chunk[..width]);
    }
    Some(out)
}

fn swap_each(bytes: &[u8], size: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for chunk in out.chunks_exact_mut(size) {
        chunk.reverse();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_without_blobs_is_its_text() {
        let mut baker = Baker::new();
        (1u8, [2u16; 3]).bake_into(&mut baker);
        assert_eq!(
            value_expr("X", &baker, &mut Inline).unwrap(),
            "(1u8, [2u16, 2u16, 2u16], )"
        );
    }

    #[test]
    fn blobs_get_one_constant_per_endianness() {
        let mut baker = Baker::new();
        vec![0x0102_0304u32; 300].bake_into(&mut baker);
        let expr = value_expr("X", &baker, &mut Inline).unwrap();
        assert!(expr.starts_with("{\n#[allow(clippy::large_const_arrays)] #[cfg(target_endian = \"little\")] const __STAGED_BLOB_0: [u32; 300] = ::staged::__const_init::from_bytes(*b\"\\x04\\x03\\x02\\x01"), "{expr}");
        assert!(expr.contains("#[allow(clippy::large_const_arrays)] #[cfg(target_endian = \"big\")] const __STAGED_BLOB_0: [u32; 300] = ::staged::__const_init::from_bytes(*b\"\\x01\\x02\\x03\\x04"), "{expr}");
        assert!(expr.ends_with("&__STAGED_BLOB_0\n}"), "{expr}");
    }

    #[test]
    fn bytes_need_no_endianness() {
        assert_eq!(layouts(Scalar::U8, &[1, 2]), vec![(None, vec![1, 2])]);
    }

    #[test]
    fn pointer_sized_blobs_exist_only_where_they_fit() {
        let values: Vec<u8> = [1u64, 70_000]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let cfgs: Vec<String> = layouts(Scalar::Usize, &values)
            .into_iter()
            .map(|(cfg, bytes)| format!("{} {}", cfg.unwrap(), bytes.len()))
            .collect();
        assert_eq!(
            cfgs,
            [
                "all(target_endian = \"little\", target_pointer_width = \"32\") 8",
                "all(target_endian = \"big\", target_pointer_width = \"32\") 8",
                "all(target_endian = \"little\", target_pointer_width = \"64\") 16",
                "all(target_endian = \"big\", target_pointer_width = \"64\") 16",
            ]
        );
        let negative: Vec<u8> = (-5i64).to_le_bytes().to_vec();
        let narrowed = &layouts(Scalar::Isize, &negative)[0].1;
        assert_eq!(i16::from_le_bytes([narrowed[0], narrowed[1]]), -5);
    }

    #[test]
    fn values_too_wide_for_a_target_fail_there_only() {
        let mut baker = Baker::new();
        (1usize << 40).bake_into(&mut baker);
        let expr = value_expr("BIG", &baker, &mut Inline).unwrap();
        assert!(expr.contains("#[cfg(target_pointer_width = \"16\")] ::core::compile_error!(\"`BIG` holds the `usize` value 1099511627776, which does not fit a 16-bit target\");"), "{expr}");
        assert!(expr.contains("target_pointer_width = \"32\""), "{expr}");
        let mut baker = Baker::new();
        (-40_000isize).bake_into(&mut baker);
        let expr = value_expr("NEG", &baker, &mut Inline).unwrap();
        assert!(
            expr.contains("the `isize` value -40000, which does not fit a 16-bit"),
            "{expr}"
        );
        assert!(!expr.contains("\"32\""), "{expr}");
    }
}
