//! Service side of the engine (SCENARIO.md rule 3): an attempt arrives, takes a worker or
//! queues or is rejected; a visit draws its own time under the active faults, then makes
//! its downstream calls (sequential steps, gated groups, parallel groups) while holding the
//! worker, releases it and answers its caller. Deadline propagation and CoDel drop queued
//! work when it is started too late.

use super::engine::{Engine, Ev, Visit, VisitState, NONE};
use super::recorder::{Recorder, VisitRecord};
use super::topology::Step;
use crate::replay::model::CodelSpec;

impl<R: Recorder> Engine<'_, R> {
    /// Attempt `serial` of `call` arrives at the callee of `edge`; false = rejected at once.
    pub fn arrive(&mut self, call: u32, serial: u32, trace: u32, edge: u32, deadline: f64) -> bool {
        let svc = self.topo.edges[edge as usize].to;
        let spec = &self.topo.services[svc as usize];
        self.stats.events.arrival += 1;
        let st = &mut self.stats.services[svc as usize];
        st.arrivals += 1;
        let state = &self.svc[svc as usize];
        let queued = state.queue.len() as u32;
        if state.busy >= spec.workers && spec.queue_limit.is_some_and(|l| queued >= l) {
            st.rejected += 1;
            return false;
        }
        let v = self.visits.insert(Visit {
            serial,
            call,
            trace,
            svc,
            edge,
            step: 0,
            rep: 0,
            pending: 0,
            fail: false,
            variant: 0,
            state: VisitState::Queued,
            arrive: self.now,
            start: self.now,
            deadline,
            queue_at_arrival: queued,
            instance: spec.instance_of(self.seed, serial),
            silent: false,
            wait_start: f64::NAN,
            wait_end: f64::NAN,
        });
        if self.svc[svc as usize].busy < spec.workers {
            self.start_visit(v);
        } else {
            self.stats.events.queue_entry += 1;
            let state = &mut self.svc[svc as usize];
            if state.queue.is_empty() {
                state.last_empty = self.now; // empty until this very instant
            }
            let q = &mut state.queue;
            q.push_back(v);
            st.peak_queue = st.peak_queue.max(q.len() as u32);
        }
        true
    }

    /// The visit takes a worker and draws its own time under the faults active now.
    fn start_visit(&mut self, v: u32) {
        let now = self.now;
        let vis = &mut self.visits.items[v as usize];
        let svc = vis.svc as usize;
        let spec = &self.topo.services[svc];
        self.stats.events.service_start += 1;
        self.svc[svc].busy += 1;
        vis.state = VisitState::Serving;
        vis.start = now;
        let (mut mult, mut keep, mut right) = (1.0, 1.0, 1.0);
        for f in spec.faults.iter().filter(|f| f.hits(now, vis.instance)) {
            mult *= f.multiplier;
            keep *= 1.0 - f.error_rate;
            right *= 1.0 - f.silent_error_rate;
        }
        let own = spec.dist.sample(&mut self.rng) * mult;
        vis.fail = keep < 1.0 && self.rng.uniform() < 1.0 - keep;
        // Drawn only when a silent fault is active, so models without one keep their stream.
        vis.silent = right < 1.0 && !vis.fail && self.rng.uniform() < 1.0 - right;
        self.push(now + own, Ev::Done(v));
    }

    /// Own time over on a service with a pool: take a permit, or wait for one in order.
    fn acquire(&mut self, v: u32) {
        let svc = self.visits.items[v as usize].svc as usize;
        self.visits.items[v as usize].wait_start = self.now;
        if self.svc[svc].pool_free > 0 {
            self.svc[svc].pool_free -= 1;
            self.hold(v);
        } else {
            self.svc[svc].pool_wait.push_back(v);
        }
    }

    /// The visit got its permit: it holds it for its hold time (a slow holder far longer).
    fn hold(&mut self, v: u32) {
        let now = self.now;
        let vis = &mut self.visits.items[v as usize];
        vis.wait_end = now;
        let topo = self.topo;
        let spec = &topo.services[vis.svc as usize];
        let Some(pool) = &spec.pool else { return };
        let mut d = pool.hold.sample(&mut self.rng);
        for f in spec.faults.iter().filter(|f| f.hold_share > 0.0) {
            if f.hits(now, vis.instance) && self.rng.uniform() < f.hold_share {
                d *= f.hold_multiplier;
            }
        }
        self.push(now + d, Ev::Held(v));
    }

    /// The hold ended: the permit goes to the first waiter, the visit makes its calls.
    pub fn held(&mut self, v: u32) {
        let svc = self.visits.items[v as usize].svc as usize;
        match self.svc[svc].pool_wait.pop_front() {
            Some(w) => self.hold(w),
            None => self.svc[svc].pool_free += 1,
        }
        self.make_calls(v);
    }

    /// Own service time over: fail, or start the downstream calls.
    pub fn service_done(&mut self, v: u32) {
        if self.visits.items[v as usize].fail {
            self.finish_visit(v, false);
            return;
        }
        let svc = self.visits.items[v as usize].svc as usize;
        if self.topo.services[svc].pool.is_some() {
            self.acquire(v);
            return;
        }
        self.make_calls(v);
    }

    /// Picks the visit's call template and starts its downstream calls.
    fn make_calls(&mut self, v: u32) {
        let topo = self.topo;
        let cdf = &topo.services[self.visits.items[v as usize].svc as usize].variant_cdf;
        if !cdf.is_empty() {
            let u = self.rng.uniform();
            let i = cdf.partition_point(|&c| c <= u).min(cdf.len() - 1);
            self.visits.items[v as usize].variant = (i + 1) as u8;
        }
        self.visits.items[v as usize].state = VisitState::Calling;
        self.advance(v);
    }

    /// Makes the next downstream call(s) of the visit, or finishes it.
    fn advance(&mut self, v: u32) {
        loop {
            let vis = self.visits.items[v as usize];
            let topo = self.topo;
            let steps = &topo.services[vis.svc as usize].steps;
            let Some(step) = steps.get(vis.step as usize) else {
                self.finish_visit(v, true);
                return;
            };
            let tag = topo.services[vis.svc as usize]
                .step_variant
                .get(vis.step as usize)
                .copied()
                .unwrap_or(0);
            if tag != 0 && tag != vis.variant {
                self.next_step(v, 1);
                continue;
            }
            match step {
                Step::Seq(c) if vis.rep < c.count => {
                    let c = *c;
                    self.visits.items[v as usize].rep += 1;
                    if c.p < 1.0 && self.rng.uniform() >= c.p {
                        continue;
                    }
                    self.visits.items[v as usize].pending = 1;
                    self.start_call(v, vis.serial, vis.trace, c.edge, vis.deadline);
                    return;
                }
                Step::Seq(_) => self.next_step(v, 1),
                &Step::Gate { p, len } => {
                    let skip = p < 1.0 && self.rng.uniform() >= p;
                    self.next_step(v, if skip { 1 + len } else { 1 });
                }
                Step::Par { p, .. } => {
                    let skip = *p < 1.0 && self.rng.uniform() >= *p;
                    if !skip && !self.fan_out(v) {
                        return;
                    }
                    if skip {
                        self.next_step(v, 1);
                    }
                }
            }
        }
    }

    fn next_step(&mut self, v: u32, by: u32) {
        let vis = &mut self.visits.items[v as usize];
        vis.step += by;
        vis.rep = 0;
    }

    /// Sends every member of a parallel group; true when none is outstanding afterwards
    /// (so `advance` goes on), false when the visit now waits (or has already failed).
    fn fan_out(&mut self, v: u32) -> bool {
        let vis = self.visits.items[v as usize];
        let topo = self.topo;
        let Some(Step::Par { members, .. }) =
            topo.services[vis.svc as usize].steps.get(vis.step as usize)
        else {
            return true;
        };
        // A sentinel pending count keeps synchronous completions from advancing the visit.
        self.visits.items[v as usize].pending = 1;
        for c in members.iter() {
            for _ in 0..c.count {
                if c.p < 1.0 && self.rng.uniform() >= c.p {
                    continue;
                }
                self.visits.items[v as usize].pending += 1;
                self.start_call(v, vis.serial, vis.trace, c.edge, vis.deadline);
                if !self.visit_alive(v, vis.serial) {
                    return false;
                }
            }
        }
        self.next_step(v, 1);
        let vis = &mut self.visits.items[v as usize];
        vis.pending -= 1;
        vis.pending == 0
    }

    fn visit_alive(&self, v: u32, serial: u32) -> bool {
        let vis = &self.visits.items[v as usize];
        vis.serial == serial && vis.state == VisitState::Calling
    }

    /// A downstream call of visit `v` (attempt `serial`) finished.
    pub fn visit_call_done(&mut self, v: u32, serial: u32, ok: bool) {
        if v == NONE || !self.visit_alive(v, serial) {
            return;
        }
        let vis = &mut self.visits.items[v as usize];
        vis.pending -= 1;
        if !ok {
            self.finish_visit(v, false);
        } else if vis.pending == 0 {
            // A parallel group's step was moved on by `fan_out`; a sequential call's `rep`
            // counts its tries, so `advance` resumes at the right place either way.
            self.advance(v);
        }
    }

    /// Releases the worker, starts the queue's head, answers the caller.
    fn finish_visit(&mut self, v: u32, ok: bool) {
        let vis = self.visits.items[v as usize];
        self.stats.events.service_end += 1;
        self.svc[vis.svc as usize].busy -= 1;
        let status = if ok {
            200
        } else if vis.fail {
            503
        } else {
            502
        };
        if R::ENABLED {
            self.record_visit(&vis, ok, status);
        }
        self.visits.items[v as usize].state = VisitState::Free;
        self.visits.release(v);
        self.start_next(vis.svc);
        self.answer(vis.edge, vis.call, vis.serial, status, ok && vis.silent);
    }

    /// Sends the answer of attempt `serial` back over the edge (no one waits on a queue).
    fn answer(&mut self, edge: u32, call: u32, serial: u32, status: u16, silent: bool) {
        if self.topo.edges[edge as usize].asynchronous {
            return;
        }
        let back = self.net_delay(edge);
        if back > 0.0 {
            let ev = Ev::Reply {
                call,
                serial,
                status,
                silent,
            };
            self.push(self.now + back, ev);
            return;
        }
        self.last_status = status;
        self.last_silent = silent;
        self.respond(call, serial, status == 200);
    }

    /// One-way network delay of a message on `edge` now: the callee's own distribution
    /// plus its active network faults (none: 0, and no random draw).
    pub fn net_delay(&mut self, edge: u32) -> f64 {
        let topo = self.topo;
        let e = &topo.edges[edge as usize];
        let s = &topo.services[e.to as usize];
        let mut d = s.network.as_ref().map_or(0.0, |n| n.sample(&mut self.rng));
        if s.net_faults {
            let now = self.now;
            let hit = |f: &&super::topology::Fault| {
                f.start <= now && now < f.end && f.from.is_none_or(|a| a == e.from)
            };
            d += s
                .faults
                .iter()
                .filter(hit)
                .map(|f| f.network_delay)
                .sum::<f64>();
        }
        d
    }

    fn record_visit(&mut self, vis: &Visit, ok: bool, status: u16) {
        let r = VisitRecord {
            service: vis.svc,
            edge: vis.edge,
            serial: vis.serial,
            trace: vis.trace,
            arrive: vis.arrive,
            start: vis.start,
            end: self.now,
            ok,
            status,
            queue_at_arrival: vis.queue_at_arrival,
            instance: vis.instance,
            silent: ok && vis.silent,
            wait: (vis.wait_start, vis.wait_end),
        };
        self.rec.visit(self.topo, &r);
    }

    /// Gives the free worker to the first queued visit that is still worth serving.
    fn start_next(&mut self, svc: u32) {
        loop {
            let lifo = self
                .standing(svc)
                .is_some_and(|(standing, c)| standing && c.adaptive_lifo);
            let q = &mut self.svc[svc as usize].queue;
            let Some(v) = (if lifo { q.pop_back() } else { q.pop_front() }) else {
                return;
            };
            if self.svc[svc as usize].queue.is_empty() {
                self.svc[svc as usize].last_empty = self.now;
            }
            if let Some(reason) = self.drop_reason(v) {
                self.drop_queued(v, reason);
                continue;
            }
            self.start_visit(v);
            return;
        }
    }

    /// With CoDel on: whether the queue is standing (not empty for a whole interval).
    fn standing(&self, svc: u32) -> Option<(bool, CodelSpec)> {
        let codel = self.topo.services[svc as usize].codel?;
        let since_empty = self.now - self.svc[svc as usize].last_empty;
        Some((since_empty > codel.interval_ms / 1000.0, codel))
    }

    /// Deadline propagation and CoDel: why a queued visit should not be served.
    fn drop_reason(&self, v: u32) -> Option<DropReason> {
        let vis = &self.visits.items[v as usize];
        if self.now >= vis.deadline {
            return Some(DropReason::Deadline);
        }
        // Standing queue (not empty for a whole interval) → short limit `target`.
        let (standing, codel) = self.standing(vis.svc)?;
        let limit = if standing {
            codel.target_ms
        } else {
            codel.interval_ms
        } / 1000.0;
        (self.now - vis.arrive > limit).then_some(DropReason::Codel)
    }

    fn drop_queued(&mut self, v: u32, reason: DropReason) {
        let vis = self.visits.items[v as usize];
        let st = &mut self.stats.services[vis.svc as usize];
        match reason {
            DropReason::Deadline => st.deadline_dropped += 1,
            DropReason::Codel => st.codel_dropped += 1,
        }
        self.visits.items[v as usize].state = VisitState::Free;
        self.visits.release(v);
        self.answer(vis.edge, vis.call, vis.serial, 503, false);
    }
}

#[derive(Debug, Clone, Copy)]
enum DropReason {
    Deadline,
    Codel,
}
