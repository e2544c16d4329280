//! A radix heap: the priority queue of the search.
//!
//! Dijkstra pops keys in non-decreasing order and never pushes a key below the last
//! one popped, which is all a radix heap needs. Keys are the bit patterns of
//! non-negative `f64` costs: for those, `f64` order and `u64` order agree.
//!
//! Bucket `b > 0` holds keys whose highest bit differing from the last popped key is
//! bit `b - 1`; bucket 0 holds keys equal to it. A push is one `Vec::push`; a pop
//! takes from bucket 0 or, when it is empty, redistributes the first non-empty bucket,
//! whose keys all move to strictly lower buckets, so every key moves at most 64 times
//! (in practice two or three). The buckets keep their allocations between queries.
//!
//! Stale entries (a node whose cost improved after it was pushed) are not removed;
//! the search skips them when they come out (lazy deletion).

/// Min-heap of `(key, payload)` with monotone keys.
#[derive(Clone, Debug)]
pub(crate) struct RadixHeap {
    last: u64,
    /// Bit `b` set iff `buckets[b]` is non-empty.
    occupied: u128,
    buckets: Vec<Vec<(u64, u64)>>,
    /// Entries with a larger key are dropped (see [`RadixHeap::set_limit`]).
    limit: u64,
}

impl Default for RadixHeap {
    fn default() -> Self {
        RadixHeap {
            last: 0,
            occupied: 0,
            buckets: (0..65).map(|_| Vec::new()).collect(),
            limit: u64::MAX,
        }
    }
}

#[inline(always)]
fn bucket(key: u64, last: u64) -> usize {
    (64 - (key ^ last).leading_zeros()) as usize
}

impl RadixHeap {
    /// Empties the heap, keeping its memory.
    pub fn clear(&mut self) {
        let mut occ = self.occupied;
        while occ != 0 {
            let b = occ.trailing_zeros() as usize;
            self.buckets[b].clear();
            occ &= occ - 1;
        }
        self.occupied = 0;
        self.last = 0;
        self.limit = u64::MAX;
    }

    /// Drops every entry with a key above `limit` (or a lower limit set before), now
    /// and when pushed, until the next `clear`: for a caller that knows that such
    /// entries can no longer come out before it stops. The entries kept come out
    /// exactly as they would have (the same keys in the same order, ties included):
    /// an entry above the limit is never the smallest of the bucket it is moved
    /// with unless all of them are above it, so every `last` is the same.
    #[inline]
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = self.limit.min(limit);
    }

    /// The last key popped (0 after `clear`): no key pushed may be smaller.
    #[inline(always)]
    pub fn floor(&self) -> u64 {
        self.last
    }

    /// Adds an entry. `key` must not be below the last key popped.
    #[inline(always)]
    pub fn push(&mut self, key: u64, node: u64) {
        debug_assert!(key >= self.last, "radix heap keys must be monotone");
        if key > self.limit {
            return;
        }
        let b = bucket(key, self.last);
        // SAFETY-free: `b <= 64` and there are 65 buckets.
        self.buckets[b].push((key, node));
        self.occupied |= 1u128 << b;
    }

    /// Removes an entry with the smallest key.
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, u64)> {
        while self.occupied & 1 == 0 {
            if self.occupied == 0 {
                return None;
            }
            self.refill();
        }
        let b0 = &mut self.buckets[0];
        let e = b0.pop();
        if b0.is_empty() {
            self.occupied &= !1;
        }
        e
    }

    /// Moves the first non-empty bucket's entries down, around its smallest key.
    #[cold]
    fn refill(&mut self) {
        let i = self.occupied.trailing_zeros() as usize;
        let mut moved = std::mem::take(&mut self.buckets[i]);
        self.occupied &= !(1u128 << i);
        let limit = self.limit;
        if let Some(min) = moved.iter().map(|e| e.0).filter(|&k| k <= limit).min() {
            self.last = min;
            for &(k, n) in &moved {
                if k > limit {
                    continue;
                }
                let b = bucket(k, min);
                self.buckets[b].push((k, n));
                self.occupied |= 1u128 << b;
            }
        }
        moved.clear();
        // Give the (now empty) vector back so its allocation is reused.
        self.buckets[i] = moved;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64) for the tests' keys.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    #[test]
    fn pops_in_order_with_monotone_pushes() {
        let mut h = RadixHeap::default();
        let mut rnd = xorshift(12345);
        for round in 0..3 {
            h.clear();
            let mut reference = std::collections::BinaryHeap::new();
            let mut last = 0u64;
            for i in 0..2000u64 {
                if rnd() % 3 != 0 || reference.is_empty() {
                    let k = last + rnd() % 1_000_000_000;
                    h.push(k, i);
                    reference.push(std::cmp::Reverse(k));
                } else {
                    let (k, _) = h.pop().unwrap();
                    assert_eq!(
                        std::cmp::Reverse(k),
                        reference.pop().unwrap(),
                        "round {round}"
                    );
                    last = k;
                }
            }
            while let Some(std::cmp::Reverse(k)) = reference.pop() {
                assert_eq!(h.pop().unwrap().0, k);
            }
            assert!(h.pop().is_none());
        }
    }

    #[test]
    fn a_limit_drops_only_what_would_come_out_after_it() {
        // Many equal keys, so that the order of ties is checked too: the limited heap
        // must give exactly the entries, payloads included, that the unlimited one
        // gives up to the first key above the limit, and then nothing.
        let mut rnd = xorshift(987654321);
        for round in 0..200u64 {
            let (mut plain, mut limited) = (RadixHeap::default(), RadixHeap::default());
            plain.push(0, 0);
            limited.push(0, 0);
            let mut last = 0u64;
            let mut limit = u64::MAX;
            let mut payload = 1u64;
            loop {
                for _ in 0..rnd() % 6 {
                    let k = last + rnd() % 64;
                    plain.push(k, payload);
                    limited.push(k, payload);
                    payload += 1;
                }
                if limit == u64::MAX && rnd() % 8 == 0 {
                    limit = last + rnd() % 200;
                    limited.set_limit(limit);
                    limited.set_limit(u64::MAX); // a higher limit changes nothing
                }
                let Some(e) = plain.pop() else {
                    assert_eq!(limited.pop(), None, "round {round}");
                    break;
                };
                if e.0 > limit {
                    assert_eq!(limited.pop(), None, "round {round}: {e:?}");
                    break;
                }
                assert_eq!(limited.pop(), Some(e), "round {round}");
                assert_eq!(limited.floor(), plain.floor());
                last = e.0;
                if payload > 3_000 {
                    break;
                }
            }
            limited.clear();
            limited.push(u64::MAX - 1, 7);
            assert_eq!(
                limited.pop(),
                Some((u64::MAX - 1, 7)),
                "clear lifts the limit"
            );
        }
    }

    #[test]
    fn float_bits_order_like_floats() {
        let xs = [
            0.0f64,
            1e-300,
            0.5,
            1.0,
            1.5,
            2.0,
            1e10,
            1e300,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(w[0].to_bits() < w[1].to_bits());
        }
    }
}
