//! The 32-byte BLAKE3 hashes that name everything in the store.

use std::fmt;

/// A 32-byte BLAKE3 hash, written as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// The hash of `parts`, each length-prefixed so that no two lists of
    /// parts hash alike.
    pub fn of_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut h = blake3::Hasher::new();
        for part in parts {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
        Self(*h.finalize().as_bytes())
    }

    /// The hash of `bytes`.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// Reads 64 hex digits.
    pub fn parse(hex: &str) -> Option<Self> {
        blake3::Hash::from_hex(hex)
            .ok()
            .map(|h| Self(*h.as_bytes()))
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(blake3::Hash::from(self.0).to_hex().as_str())
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::Hash32;

    #[test]
    fn hashes_print_and_parse() {
        let h = Hash32::of_parts([b"a".as_slice(), b"bc".as_slice()]);
        assert_ne!(h, Hash32::of_parts([b"ab".as_slice(), b"c".as_slice()]));
        assert_eq!(h.to_string().len(), 64);
        assert_eq!(Hash32::parse(&h.to_string()), Some(h));
        assert_eq!(Hash32::parse("zz"), None);
        assert_eq!(Hash32::parse(&"g".repeat(64)), None);
    }
}
