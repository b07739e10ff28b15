//! String interning: service, operation and peer names become small integers; and the
//! fast hash map the per-span hot paths use.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The multiply-rotate hash of rustc (FxHash): several times faster than SipHash on the
/// short keys of the hot paths (ids, names). Not DoS-resistant, which a local analysis of
/// one's own telemetry does not need.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let mut w = [0u8; 8];
        let rest = chunks.remainder();
        w[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(w) ^ rest.len() as u64);
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Names to dense ids in first-seen order.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: FastMap<Box<str>, u32>,
    names: Vec<String>,
}

impl Interner {
    /// The id meaning "no name".
    pub const NONE: u32 = u32::MAX;

    /// The id of `s`, adding it when new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(s.into(), id);
        self.names.push(s.to_string());
        id
    }

    /// The id of `s` if it was seen.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    /// The name of `id` (empty for [`Interner::NONE`] or an unknown id).
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |s| s.as_str())
    }

    /// How many names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_and_stable() {
        let mut i = Interner::default();
        assert_eq!(i.intern("api"), 0);
        assert_eq!(i.intern("db"), 1);
        assert_eq!(i.intern("api"), 0);
        assert_eq!(i.name(1), "db");
        assert_eq!(i.name(Interner::NONE), "");
        assert_eq!(i.get("db"), Some(1));
        assert_eq!(i.len(), 2);
    }
}
