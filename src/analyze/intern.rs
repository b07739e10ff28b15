//! String interning: service, operation and peer names become small integers.

use std::collections::HashMap;

/// Names to dense ids in first-seen order.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: HashMap<Box<str>, u32>,
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
