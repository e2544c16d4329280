//! The event queue: one heap, totally ordered by (time, sequence number).
//!
//! The sequence number breaks ties in insertion order, so two events at the same
//! virtual microsecond always run in the same order: runs are deterministic whatever
//! the heap's internal layout.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use flotilla_route::Timestamp;

/// A min-queue of events of type `E`.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(Timestamp, u64, usize)>>,
    /// Event payloads, kept out of the heap so sift operations move 24-byte keys only.
    slots: Vec<Option<E>>,
    free: Vec<usize>,
    seq: u64,
    now: Timestamp,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            seq: 0,
            now: Timestamp::ZERO,
        }
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The time of the event popped last.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Schedules `event` at `at`; a time in the past is clamped to now (causality).
    pub fn push(&mut self, at: Timestamp, event: E) {
        let at = at.max(self.now);
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(event);
                i
            }
            None => {
                self.slots.push(Some(event));
                self.slots.len() - 1
            }
        };
        self.heap.push(Reverse((at, self.seq, slot)));
        self.seq += 1;
    }

    /// The next event and its time, advancing the clock.
    pub fn pop(&mut self) -> Option<(Timestamp, E)> {
        let Reverse((at, _, slot)) = self.heap.pop()?;
        self.now = at;
        let event = self.slots[slot].take()?;
        self.free.push(slot);
        Some((at, event))
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_time_then_insertion() {
        let mut q = EventQueue::new();
        q.push(Timestamp(5), "b");
        q.push(Timestamp(1), "a");
        q.push(Timestamp(5), "c");
        q.push(Timestamp(3), "x");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ["a", "x", "b", "c"]);
    }

    #[test]
    fn past_events_are_clamped_to_now() {
        let mut q = EventQueue::new();
        q.push(Timestamp(10), 1);
        assert_eq!(q.pop(), Some((Timestamp(10), 1)));
        q.push(Timestamp(2), 2);
        assert_eq!(q.pop(), Some((Timestamp(10), 2)));
        assert!(q.is_empty());
    }
}
