//! The discrete-event engine: a Vec-backed binary heap of compact typed events ordered by
//! (virtual time, sequence number), slabs of visits and calls indexed by u32, lazy timer
//! cancellation (a timer carries the serial of the attempt it guards and is skipped when
//! that attempt is no longer outstanding), and the external arrival process. Service-side
//! handlers live in `visit.rs`, caller-side ones in `call.rs`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use super::guard::Guard;
use super::recorder::Recorder;
use super::rng::Rng;
use super::stats::RunStats;
use super::timers::{Timer, Timers};
use super::topology::Topology;

/// "No index" marker in slab references.
pub const NONE: u32 = u32::MAX;

/// A typed event; ids index the slabs, serials detect stale timers.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// Next external request.
    Arrival,
    /// A visit's own service time ended.
    Done(u32),
    /// Timeout of attempt `serial` of call `call`.
    Timeout { call: u32, serial: u32 },
    /// End of the backoff wait of call `call` (armed with token `serial`).
    Retry { call: u32, serial: u32 },
    /// Hedge timer of call `call` for its attempt `serial`.
    Hedge { call: u32, serial: u32 },
    /// End of sample bucket `b`.
    Sample(u32),
    /// An attempt in flight on the network (packet id) reaches its callee.
    Deliver(u32),
    /// An answer in flight reaches its caller (`status` 200 = OK, `REJECTED` = refused).
    Reply {
        call: u32,
        serial: u32,
        status: u16,
        silent: bool,
    },
    /// A visit's hold of a pool permit ended.
    Held(u32),
}

/// Status of an answer that is a rejection by a full queue (not an HTTP code).
pub const REJECTED: u16 = 1;

/// An attempt on its way to the callee.
#[derive(Debug, Clone, Copy)]
pub struct Packet {
    pub call: u32,
    pub serial: u32,
    pub trace: u32,
    pub edge: u32,
    pub deadline: f64,
}

/// A heap entry. `key` is the bit pattern of the (non-negative) time, which orders like the
/// time itself and compares faster than `f64::total_cmp`.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Reversed: `BinaryHeap` is a max-heap and we pop the earliest (then oldest) event.
    #[inline]
    fn cmp(&self, o: &Self) -> Ordering {
        (o.key, o.seq).cmp(&(self.key, self.seq))
    }
}

/// A slab: a Vec of slots plus a free list, so ids stay small and memory is reused.
#[derive(Debug)]
pub struct Slab<T> {
    pub items: Vec<T>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    pub fn insert(&mut self, v: T) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.items[i as usize] = v;
                i
            }
            None => {
                self.items.push(v);
                (self.items.len() - 1) as u32
            }
        }
    }

    pub fn release(&mut self, i: u32) {
        self.free.push(i);
    }
}

/// Where a visit is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitState {
    Queued,
    Serving,
    Calling,
    Free,
}

/// One attempt being served (or queued) at a service.
#[derive(Debug, Clone, Copy)]
pub struct Visit {
    pub serial: u32,
    pub call: u32,
    pub trace: u32,
    pub svc: u32,
    pub edge: u32,
    pub step: u32,
    pub rep: u32,
    pub pending: u32,
    pub fail: bool,
    /// Call template picked at the end of the own time (0 = none).
    pub variant: u8,
    pub state: VisitState,
    pub arrive: f64,
    pub start: f64,
    /// Caller's deadline when it propagates deadlines, else infinity.
    pub deadline: f64,
    pub queue_at_arrival: u32,
    /// Instance (pod) serving the visit.
    pub instance: u32,
    /// Answers OK with a wrong result.
    pub silent: bool,
    /// Pool wait: asked at `wait_start`, got a permit at `wait_end` (NaN: no pool).
    pub wait_start: f64,
    pub wait_end: f64,
}

/// What a call is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    Waiting,
    Backoff,
    Free,
}

/// One call (all attempts) from a visit, or from the external client, on an edge.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// Calling visit, or `NONE` for an external request.
    pub owner: u32,
    pub owner_serial: u32,
    pub trace: u32,
    pub edge: u32,
    /// Attempt number of the current / last attempt (1-based).
    pub k: u32,
    /// Serial of the outstanding attempt (or of the armed retry timer).
    pub cur: u32,
    /// Serial of an outstanding hedge copy, or `NONE`.
    pub hedge: u32,
    pub state: CallState,
    pub t_first: f64,
    pub t_send: f64,
    pub t_hedge: f64,
    pub prev_backoff: f64,
    pub deadline: f64,
}

/// Per-service runtime state.
#[derive(Debug, Default)]
pub struct SvcState {
    pub busy: u32,
    pub queue: VecDeque<u32>,
    /// Last time the queue was empty (CoDel as adapted in "Fail at Scale", ACM Queue 2015).
    pub last_empty: f64,
    /// Free pool permits and the visits waiting for one, in order.
    pub pool_free: u32,
    pub pool_wait: VecDeque<u32>,
}

/// One simulation run.
pub struct Engine<'t, R: Recorder> {
    pub topo: &'t Topology,
    pub now: f64,
    heap: BinaryHeap<Entry>,
    seq: u64,
    pub rng: Rng,
    pub visits: Slab<Visit>,
    pub calls: Slab<Call>,
    pub svc: Vec<SvcState>,
    pub guards: Vec<Guard>,
    pub next_serial: u32,
    pub stats: RunStats,
    pub rec: R,
    arrival_seg: usize,
    timers: Timers,
    /// Status of the last answer sent to a caller (telemetry only).
    pub last_status: u16,
    /// Whether that answer was a silent error (OK with a wrong result).
    pub last_silent: bool,
    pub seed: u64,
    pub packets: Slab<Packet>,
}

impl<'t, R: Recorder> Engine<'t, R> {
    /// A fresh engine at t = 0.
    pub fn new(topo: &'t Topology, seed: u64, rec: R) -> Self {
        let n = topo.services.len();
        Engine {
            topo,
            now: 0.0,
            heap: BinaryHeap::with_capacity(1024),
            seq: 0,
            rng: Rng::new(seed),
            visits: Slab::default(),
            calls: Slab::default(),
            svc: topo
                .services
                .iter()
                .map(|s| SvcState {
                    pool_free: s.pool.as_ref().map_or(0, |p| p.permits),
                    ..SvcState::default()
                })
                .collect(),
            guards: topo.edges.iter().map(|e| Guard::new(&e.policy)).collect(),
            next_serial: 1,
            stats: RunStats::new(seed, n, topo.edges.len(), topo.buckets),
            rec,
            arrival_seg: 0,
            timers: Timers::new(topo),
            last_status: 0,
            last_silent: false,
            seed,
            packets: Slab::default(),
        }
    }

    /// Schedules `ev` at time `t`.
    #[inline]
    pub fn push(&mut self, t: f64, ev: Ev) {
        self.seq += 1;
        debug_assert!(t >= 0.0, "event time {t} before the start");
        self.heap.push(Entry {
            key: t.to_bits(),
            seq: self.seq,
            ev,
        });
    }

    /// Arms the timeout of attempt `serial` of call `call` on `edge`, firing at `t`.
    #[inline]
    pub fn push_timeout(&mut self, edge: u32, t: f64, call: u32, serial: u32) {
        match self.timers.class(edge) {
            Some(class) => {
                self.seq += 1;
                let seq = self.seq;
                self.timers.push(
                    class,
                    Timer {
                        t,
                        seq,
                        call,
                        serial,
                    },
                );
            }
            None => self.push(t, Ev::Timeout { call, serial }),
        }
    }

    /// The next event: the earlier (by time, then sequence) of the heap top and the timers.
    #[inline]
    fn pop(&mut self) -> Option<(f64, Ev)> {
        let timer = self.timers.earliest();
        let heap_first = match (self.heap.peek(), timer) {
            (Some(h), Some((t, seq, _))) => (f64::from_bits(h.key), h.seq) < (t, seq),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if heap_first {
            return self.heap.pop().map(|e| (f64::from_bits(e.key), e.ev));
        }
        let (_, _, class) = timer?;
        let f = self.timers.pop(class)?;
        Some((
            f.t,
            Ev::Timeout {
                call: f.call,
                serial: f.serial,
            },
        ))
    }

    /// Bucket of the current time.
    #[inline]
    pub fn bucket(&self) -> usize {
        ((self.now / self.topo.interval) as usize).min(self.topo.buckets - 1)
    }

    /// A fresh attempt serial.
    #[inline]
    pub fn serial(&mut self) -> u32 {
        let s = self.next_serial;
        self.next_serial = self.next_serial.wrapping_add(1).max(1);
        s
    }

    /// Runs to `duration`; returns the statistics and the recorder.
    pub fn run(mut self) -> (RunStats, R) {
        self.schedule_arrival(0.0);
        if self.topo.buckets > 1 {
            self.push(self.topo.interval, Ev::Sample(0));
        }
        while let Some((t, ev)) = self.pop() {
            if t >= self.topo.duration {
                break;
            }
            self.now = t;
            self.dispatch(ev);
        }
        self.now = self.topo.duration;
        self.sample(self.topo.buckets - 1);
        (self.stats, self.rec)
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Arrival => self.external_arrival(),
            Ev::Done(v) => self.service_done(v),
            Ev::Timeout { call, serial } => self.timeout_fired(call, serial),
            Ev::Retry { call, serial } => self.retry_fired(call, serial),
            Ev::Hedge { call, serial } => self.hedge_fired(call, serial),
            Ev::Deliver(p) => self.deliver(p),
            Ev::Reply {
                call,
                serial,
                status,
                silent,
            } => self.reply_arrived(call, serial, status, silent),
            Ev::Held(v) => self.held(v),
            Ev::Sample(b) => {
                self.sample(b as usize);
                if (b as usize) + 2 < self.topo.buckets {
                    self.push((b + 2) as f64 * self.topo.interval, Ev::Sample(b + 1));
                }
            }
        }
    }

    fn sample(&mut self, b: usize) {
        for (st, s) in self.stats.services.iter_mut().zip(&self.svc) {
            st.inflight_ts[b] = s.busy;
            st.queue_ts[b] = s.queue.len() as u32;
        }
    }

    /// Schedules the next external arrival after `from` (piecewise Poisson).
    fn schedule_arrival(&mut self, from: f64) {
        if !self.topo.arrival_times.is_empty() {
            // Exact replay: `arrival_seg` walks the instants.
            if let Some(&t) = self.topo.arrival_times.get(self.arrival_seg) {
                self.arrival_seg += 1;
                self.push(t.max(from), Ev::Arrival);
            }
            return;
        }
        let mut t = from;
        while let Some(&(start, rate)) = self.topo.schedule.get(self.arrival_seg) {
            let end = self
                .topo
                .schedule
                .get(self.arrival_seg + 1)
                .map_or(self.topo.duration, |s| s.0);
            let end = end.min(self.topo.duration);
            let base = t.max(start);
            if rate > 0.0 {
                let next = base + self.rng.exponential(rate);
                if next < end {
                    self.push(next, Ev::Arrival);
                    return;
                }
            }
            t = end;
            self.arrival_seg += 1;
        }
    }

    fn external_arrival(&mut self) {
        let b = self.bucket();
        self.stats.ext_arrivals[b] += 1;
        let trace = self.serial();
        let now = self.now;
        self.start_call(NONE, 0, trace, self.topo.entry_edge, f64::INFINITY);
        self.schedule_arrival(now);
    }

    /// An external request's call finished.
    pub fn external_done(&mut self, t_first: f64, ok: bool) {
        let b = self.bucket();
        if ok {
            self.stats.ext_ok[b] += 1;
        } else {
            self.stats.ext_fail[b] += 1;
        }
        self.stats.ext_latency[b].push(self.now - t_first);
    }
}
