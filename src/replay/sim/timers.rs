//! Timeout timers kept out of the event heap. Every attempt on an edge arms a timer at
//! `send + timeout`, and the clock never goes back, so the timers of one timeout duration
//! are armed in time order: a FIFO per distinct duration is already sorted. The engine pops
//! whichever is earliest of the heap top and the FIFO fronts, by (time, sequence number),
//! so the order of events is exactly that of a single heap, with a much smaller heap.

use std::collections::VecDeque;

use super::engine::NONE;
use super::topology::Topology;

/// One armed timeout.
#[derive(Debug, Clone, Copy)]
pub struct Timer {
    pub t: f64,
    pub seq: u64,
    pub call: u32,
    pub serial: u32,
}

/// FIFO timer queues, one per distinct timeout duration.
#[derive(Debug, Default)]
pub struct Timers {
    queues: Vec<VecDeque<Timer>>,
    /// Queue of each edge, or `NONE` when its timers go to the heap (deadline propagation
    /// makes the fire time depend on the caller's deadline, so it is not monotonic).
    class_of_edge: Vec<u32>,
}

impl Timers {
    /// One queue per distinct fixed timeout among the edges.
    pub fn new(topo: &Topology) -> Self {
        let mut durations: Vec<f64> = Vec::new();
        let mut class_of_edge = Vec::with_capacity(topo.edges.len());
        for e in &topo.edges {
            let class = match e.policy.timeout {
                Some(t) if !e.policy.deadline_propagation => {
                    let i = durations.iter().position(|&d| d == t).unwrap_or_else(|| {
                        durations.push(t);
                        durations.len() - 1
                    });
                    i as u32
                }
                _ => NONE,
            };
            class_of_edge.push(class);
        }
        Timers {
            queues: durations.iter().map(|_| VecDeque::new()).collect(),
            class_of_edge,
        }
    }

    /// Queue of an edge's timers, if it has one.
    #[inline]
    pub fn class(&self, edge: u32) -> Option<usize> {
        let c = self.class_of_edge[edge as usize];
        (c != NONE).then_some(c as usize)
    }

    /// Arms a timer on queue `class`.
    #[inline]
    pub fn push(&mut self, class: usize, timer: Timer) {
        self.queues[class].push_back(timer);
    }

    /// The earliest front `(t, seq, queue)`, if any timer is armed.
    #[inline]
    pub fn earliest(&self) -> Option<(f64, u64, usize)> {
        let mut best: Option<(f64, u64, usize)> = None;
        for (i, q) in self.queues.iter().enumerate() {
            if let Some(f) = q.front() {
                if best.is_none_or(|(t, s, _)| (f.t, f.seq) < (t, s)) {
                    best = Some((f.t, f.seq, i));
                }
            }
        }
        best
    }

    /// Removes the front of queue `class`.
    #[inline]
    pub fn pop(&mut self, class: usize) -> Option<Timer> {
        self.queues[class].pop_front()
    }
}
