//! A per-bucket series that stores only the stretch from its first to its last non-zero
//! bucket: a service or edge seen in a few buckets of a thousand costs those few, so 10^5
//! services (a service name carrying a request id) do not need 10^5 full series.
//!
//! Reads like a slice: `s[k]`, `s.iter()`, `s.len()`, `&s` in a `for` or `zip`; buckets
//! outside the stored stretch read as the zero value (`0`, `None`).

use std::iter::{repeat_n, Chain, RepeatN};

/// A series of `len` buckets; buckets outside `offset..offset + values.len()` hold `zero`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series<T> {
    len: usize,
    offset: usize,
    values: Vec<T>,
    zero: T,
}

impl<T: Copy + Default + PartialEq> Series<T> {
    /// The series of `dense`, trimmed to its non-zero stretch.
    pub fn from_dense(dense: Vec<T>) -> Series<T> {
        Self::with_fill(dense, T::default())
    }

    /// The series of `dense`, trimmed to the stretch that is not `zero` (for a series whose
    /// empty bucket is not the type's default, e.g. `Some(0.0)` for a level).
    pub fn with_fill(dense: Vec<T>, zero: T) -> Series<T> {
        let len = dense.len();
        let Some(first) = dense.iter().position(|v| *v != zero) else {
            return Series {
                len,
                offset: 0,
                values: Vec::new(),
                zero,
            };
        };
        let last = dense.iter().rposition(|v| *v != zero).unwrap_or(first);
        let values = if first == 0 && last + 1 == len {
            dense
        } else {
            dense[first..=last].to_vec()
        };
        Series {
            len,
            offset: first,
            values,
            zero,
        }
    }

    /// Number of buckets.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no buckets.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every bucket, in order.
    pub fn iter(&self) -> Iter<'_, T> {
        let tail = self.len - self.offset - self.values.len();
        repeat_n(&self.zero, self.offset)
            .chain(self.values.iter())
            .chain(repeat_n(&self.zero, tail))
    }

    /// Whether `f` holds for every bucket (each stored value, and the zero once if some
    /// bucket holds it): cost in the stored stretch, not in the buckets.
    pub fn all(&self, f: impl Fn(&T) -> bool) -> bool {
        let gaps = self.values.len() < self.len;
        (!gaps || f(&self.zero)) && self.values.iter().all(f)
    }

    /// Bucket `k` (`None` past the end).
    pub fn value(&self, k: usize) -> Option<T> {
        (k < self.len).then(|| self[k])
    }

    /// Buckets `r` as a vector (`None` past the end, like a slice's `get`).
    pub fn get(&self, r: std::ops::Range<usize>) -> Option<Vec<T>> {
        (r.start <= r.end && r.end <= self.len).then(|| r.map(|k| self[k]).collect())
    }

    /// The buckets as a plain vector.
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().copied().collect()
    }
}

/// The iterator of [`Series::iter`].
pub type Iter<'a, T> = Chain<Chain<RepeatN<&'a T>, std::slice::Iter<'a, T>>, RepeatN<&'a T>>;

impl<T> std::ops::Index<usize> for Series<T> {
    type Output = T;

    /// Bucket `k`; panics past the end like a slice.
    fn index(&self, k: usize) -> &T {
        assert!(k < self.len, "bucket {k} of a series of {}", self.len);
        match k.checked_sub(self.offset) {
            Some(i) if i < self.values.len() => &self.values[i],
            _ => &self.zero,
        }
    }
}

impl<'a, T: Copy + Default + PartialEq> IntoIterator for &'a Series<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T: Copy + Default + PartialEq> From<Vec<T>> for Series<T> {
    fn from(v: Vec<T>) -> Series<T> {
        Series::from_dense(v)
    }
}

/// Written as the full list of buckets, as a plain vector would be.
impl<T: Copy + Default + PartialEq + serde::Serialize> serde::Serialize for Series<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_the_dense_vector_it_was_made_from() {
        for dense in [
            vec![0u32, 0, 3, 0, 5, 0],
            vec![1, 2],
            vec![0, 0],
            vec![],
            vec![7],
        ] {
            let s = Series::from_dense(dense.clone());
            assert_eq!(s.len(), dense.len());
            assert_eq!(s.to_vec(), dense);
            assert_eq!((&s).into_iter().count(), dense.len());
            for (k, v) in dense.iter().enumerate() {
                assert_eq!(s[k], *v);
            }
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                serde_json::to_string(&dense).unwrap()
            );
        }
        let thin = Series::from_dense(vec![0u32, 3, 0]);
        assert!(thin.all(|&v| v <= 3) && !thin.all(|&v| v > 0));
        let opt = Series::from_dense(vec![None, Some(1.5), None]);
        assert_eq!(opt.iter().flatten().copied().collect::<Vec<f64>>(), [1.5]);
    }

    #[test]
    fn a_thin_series_stores_only_its_stretch() {
        let mut dense = vec![0u32; 1000];
        dense[400] = 1;
        dense[402] = 2;
        let s = Series::from_dense(dense);
        assert_eq!((s.offset, s.values.len()), (400, 3));
    }
}
