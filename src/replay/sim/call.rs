//! Caller side of the engine (SCENARIO.md rules 4–6): a call sends attempts, arms a
//! timeout per attempt, waits a backoff between attempts (none / full / equal /
//! decorrelated jitter), asks the edge's guard (budget, throttling, breaker, limits) before
//! sending, may hedge, and reports the final outcome to the calling visit or the client.

use crate::replay::model::policy::Jitter;

use super::engine::{Call, CallState, Engine, Ev, Packet, NONE, REJECTED};
use super::recorder::{AttemptRecord, Outcome, Recorder};
use super::rng::Rng;
use crate::replay::model::policy::EdgePolicy;

/// Delay before retry `k` (1 = first retry), SCENARIO.md rule 4 and REPLAY.md:
/// `d = min(cap, base·mult^(k-1))`; full jitter `U(0, d)`; equal `d/2 + U(0, d/2)`;
/// decorrelated `min(cap, U(base, 3·prev))` with `prev` the previous delay (base at first).
pub fn backoff_delay(p: &EdgePolicy, k: u32, prev: f64, rng: &mut Rng) -> f64 {
    let d = (p.base * p.multiplier.powi(k as i32 - 1)).min(p.cap);
    match p.jitter {
        Jitter::None => d,
        Jitter::Full => rng.uniform() * d,
        Jitter::Equal => d / 2.0 + rng.uniform() * d / 2.0,
        Jitter::Decorrelated => {
            let hi = 3.0 * if k == 1 { p.base } else { prev };
            (p.base + rng.uniform() * (hi - p.base).max(0.0)).min(p.cap)
        }
    }
}

impl<R: Recorder> Engine<'_, R> {
    /// A new call on `edge` from visit `owner` (or the client when `NONE`).
    pub fn start_call(
        &mut self,
        owner: u32,
        owner_serial: u32,
        trace: u32,
        edge: u32,
        deadline: f64,
    ) {
        let b = self.bucket();
        let es = &mut self.stats.edges[edge as usize];
        es.first += 1;
        es.first_ts[b] += 1;
        self.guards[edge as usize].on_call(&self.topo.edges[edge as usize].policy);
        let c = self.calls.insert(Call {
            owner,
            owner_serial,
            trace,
            edge,
            k: 0,
            cur: NONE,
            hedge: NONE,
            state: CallState::Waiting,
            t_first: self.now,
            t_send: self.now,
            t_hedge: self.now,
            prev_backoff: 0.0,
            deadline,
        });
        self.send_attempt(c, false);
    }

    /// Sends the call's next attempt (or fails the call locally when the guard refuses).
    fn send_attempt(&mut self, c: u32, retry: bool) {
        let call = self.calls.items[c as usize];
        let e = call.edge as usize;
        let topo = self.topo;
        let pol = &topo.edges[e].policy;
        self.calls.items[c as usize].k += 1;
        if !self.guards[e].admit(pol, self.now, &mut self.rng) {
            self.stats.edges[e].local_rejects += 1;
            self.complete(c, false);
            return;
        }
        if retry {
            self.stats.events.retry += 1;
            self.stats.edges[e].retries += 1;
        }
        let serial = self.serial();
        let call = &mut self.calls.items[c as usize];
        call.cur = serial;
        call.t_send = self.now;
        call.state = CallState::Waiting;
        self.dispatch_attempt(c, serial);
        let now_call = &self.calls.items[c as usize];
        let outstanding = now_call.state == CallState::Waiting && now_call.cur == serial;
        if pol.hedge.is_some() && outstanding {
            if let Some(d) = self.guards[e].hedge_delay() {
                self.push(self.now + d, Ev::Hedge { call: c, serial });
            }
        }
    }

    /// Sends attempt `serial` to the callee: counts it, arms its timer, or fails it at once
    /// when the callee rejects it.
    fn dispatch_attempt(&mut self, c: u32, serial: u32) {
        let call = self.calls.items[c as usize];
        let e = call.edge as usize;
        let b = self.bucket();
        self.stats.edges[e].attempts_ts[b] += 1;
        self.guards[e].inflight += 1;
        let topo = self.topo;
        let pol = &topo.edges[e].policy;
        let timer = pol.timeout.map_or(f64::INFINITY, |t| self.now + t);
        let deadline = if pol.deadline_propagation {
            timer.min(call.deadline)
        } else {
            f64::INFINITY
        };
        if topo.edges[e].asynchronous {
            self.publish(c, serial);
            return;
        }
        let out = self.net_delay(call.edge);
        if out > 0.0 {
            let p = self.packets.insert(Packet {
                call: c,
                serial,
                trace: call.trace,
                edge: call.edge,
                deadline,
            });
            self.push(self.now + out, Ev::Deliver(p));
        } else if !self.arrive(c, serial, call.trace, call.edge, deadline) {
            self.attempt_result(c, serial, Outcome::Rejected);
            return;
        }
        let fire = if pol.deadline_propagation {
            deadline
        } else {
            timer
        };
        if fire.is_finite() {
            self.push_timeout(call.edge, fire, c, serial);
        }
    }

    /// Publishes attempt `serial` to the queue in front of the consumer: the message
    /// reaches it after one network delay, the broker's acknowledgement comes back after
    /// another, and the consumer's answer goes nowhere.
    fn publish(&mut self, c: u32, serial: u32) {
        let call = self.calls.items[c as usize];
        let out = self.net_delay(call.edge);
        let back = self.net_delay(call.edge);
        if out > 0.0 {
            let p = self.packets.insert(Packet {
                call: c,
                serial,
                trace: call.trace,
                edge: call.edge,
                deadline: f64::INFINITY,
            });
            self.push(self.now + out, Ev::Deliver(p));
        } else {
            self.arrive(c, serial, call.trace, call.edge, f64::INFINITY);
        }
        if out + back > 0.0 {
            let ack = Ev::Reply {
                call: c,
                serial,
                status: 200,
                silent: false,
            };
            self.push(self.now + out + back, ack);
        } else {
            self.reply_arrived(c, serial, 200, false);
        }
    }

    /// A packet reaches its callee; a refusal travels back over the network.
    pub fn deliver(&mut self, p: u32) {
        let pk = self.packets.items[p as usize];
        self.packets.release(p);
        let accepted = self.arrive(pk.call, pk.serial, pk.trace, pk.edge, pk.deadline);
        if accepted || self.topo.edges[pk.edge as usize].asynchronous {
            return;
        }
        let back = self.net_delay(pk.edge);
        let ev = Ev::Reply {
            call: pk.call,
            serial: pk.serial,
            status: REJECTED,
            silent: false,
        };
        self.push(self.now + back, ev);
    }

    /// An answer that crossed the network reaches the caller (ignored if it gave up).
    pub fn reply_arrived(&mut self, c: u32, serial: u32, status: u16, silent: bool) {
        if c == NONE {
            return;
        }
        let call = &self.calls.items[c as usize];
        if call.state != CallState::Waiting || (call.cur != serial && call.hedge != serial) {
            return;
        }
        (self.last_status, self.last_silent) = (status, silent);
        let outcome = match status {
            200 => Outcome::Ok,
            REJECTED => Outcome::Rejected,
            _ => Outcome::Error,
        };
        self.attempt_result(c, serial, outcome);
    }

    /// A visit answered attempt `serial` of call `c` (ignored if the caller gave up).
    pub fn respond(&mut self, c: u32, serial: u32, ok: bool) {
        if c == NONE {
            return;
        }
        let call = &self.calls.items[c as usize];
        if call.state == CallState::Waiting && (call.cur == serial || call.hedge == serial) {
            self.attempt_result(c, serial, if ok { Outcome::Ok } else { Outcome::Error });
        }
    }

    /// The caller's timer for attempt `serial` fired.
    pub fn timeout_fired(&mut self, c: u32, serial: u32) {
        let call = &self.calls.items[c as usize];
        if call.state == CallState::Waiting && (call.cur == serial || call.hedge == serial) {
            let b = self.bucket();
            self.stats.events.timeout += 1;
            let es = &mut self.stats.edges[call.edge as usize];
            es.timeouts += 1;
            es.timeouts_ts[b] += 1;
            self.attempt_result(c, serial, Outcome::Timeout);
        }
    }

    /// The backoff of call `c` ended: send the retry.
    pub fn retry_fired(&mut self, c: u32, serial: u32) {
        let call = &self.calls.items[c as usize];
        if call.state == CallState::Backoff && call.cur == serial {
            self.send_attempt(c, true);
        }
    }

    /// The hedge delay of attempt `serial` passed with no answer: send one copy.
    pub fn hedge_fired(&mut self, c: u32, serial: u32) {
        let call = self.calls.items[c as usize];
        if call.state != CallState::Waiting || call.cur != serial || call.hedge != NONE {
            return;
        }
        let hedge = self.serial();
        let call = &mut self.calls.items[c as usize];
        call.hedge = hedge;
        call.t_hedge = self.now;
        self.stats.edges[call.edge as usize].hedges += 1;
        self.dispatch_attempt(c, hedge);
    }

    /// The caller learnt the outcome of attempt `serial`.
    fn attempt_result(&mut self, c: u32, serial: u32, outcome: Outcome) {
        let call = self.calls.items[c as usize];
        let e = call.edge as usize;
        let is_hedge = serial == call.hedge;
        let sent = if is_hedge { call.t_hedge } else { call.t_send };
        let ok = outcome == Outcome::Ok;
        let topo = self.topo;
        self.guards[e].inflight = self.guards[e].inflight.saturating_sub(1);
        self.guards[e].on_result(&topo.edges[e].policy, self.now, ok, self.now - sent);
        if R::ENABLED {
            self.record_attempt(&call, serial, sent, outcome);
        }
        if call.hedge != NONE && !self.settle_hedge(c, is_hedge, ok) {
            return;
        }
        if ok {
            self.complete(c, true);
        } else {
            self.after_failure(c);
        }
    }

    /// One of two outstanding copies answered. A failure waits for the other copy (false =
    /// keep waiting); a success wins and the other copy is abandoned.
    fn settle_hedge(&mut self, c: u32, is_hedge: bool, ok: bool) -> bool {
        let call = &mut self.calls.items[c as usize];
        if ok {
            call.hedge = NONE;
            let g = &mut self.guards[call.edge as usize];
            g.inflight = g.inflight.saturating_sub(1);
            return true;
        }
        if !is_hedge {
            (call.cur, call.t_send) = (call.hedge, call.t_hedge);
        }
        call.hedge = NONE;
        false
    }

    /// A failed attempt: retry after a backoff if allowed, else fail the call.
    fn after_failure(&mut self, c: u32) {
        let call = self.calls.items[c as usize];
        let e = call.edge as usize;
        let topo = self.topo;
        let pol = &topo.edges[e].policy;
        if call.k >= pol.max_attempts || self.now >= call.deadline {
            self.complete(c, false);
            return;
        }
        if !self.guards[e].allow_retry(pol) {
            self.stats.edges[e].retries_denied += 1;
            self.complete(c, false);
            return;
        }
        let d = self.backoff(e, call.k, call.prev_backoff);
        let token = self.serial();
        let call = &mut self.calls.items[c as usize];
        (call.state, call.cur, call.prev_backoff) = (CallState::Backoff, token, d);
        self.push(
            self.now + d,
            Ev::Retry {
                call: c,
                serial: token,
            },
        );
    }

    fn backoff(&mut self, e: usize, k: u32, prev: f64) -> f64 {
        let topo = self.topo;
        backoff_delay(&topo.edges[e].policy, k, prev, &mut self.rng)
    }

    /// The call is over: free it and tell its owner.
    fn complete(&mut self, c: u32, ok: bool) {
        let call = self.calls.items[c as usize];
        self.calls.items[c as usize].state = CallState::Free;
        self.calls.release(c);
        if call.owner == NONE {
            self.external_done(call.t_first, ok);
        } else {
            self.visit_call_done(call.owner, call.owner_serial, ok);
        }
    }

    fn record_attempt(&mut self, call: &Call, serial: u32, sent: f64, outcome: Outcome) {
        let r = AttemptRecord {
            edge: call.edge,
            serial,
            parent: call.owner_serial,
            trace: call.trace,
            attempt: call.k,
            start: sent,
            end: self.now,
            outcome,
            status: match outcome {
                Outcome::Ok => 200,
                Outcome::Error => self.last_status,
                Outcome::Rejected => 503,
                Outcome::Timeout => 0,
            },
            silent: outcome == Outcome::Ok && self.last_silent,
        };
        self.rec.attempt(self.topo, &r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::model::policy::PolicySpec;

    fn policy(json: &str) -> EdgePolicy {
        EdgePolicy::resolve(&serde_json::from_str::<PolicySpec>(json).unwrap())
    }

    #[test]
    fn backoff_follows_the_formulas() {
        let mut rng = Rng::new(5);
        let none = policy(r#"{"backoff":{"base_ms":10,"max_ms":200,"multiplier":2}}"#);
        let ds: Vec<f64> = (1..=6)
            .map(|k| backoff_delay(&none, k, 0.0, &mut rng))
            .collect();
        assert_eq!(ds, [0.01, 0.02, 0.04, 0.08, 0.16, 0.2]);
        let full = policy(r#"{"backoff":{"base_ms":100,"jitter":"full"}}"#);
        let equal = policy(r#"{"backoff":{"base_ms":100,"jitter":"equal"}}"#);
        for _ in 0..1000 {
            let f = backoff_delay(&full, 3, 0.0, &mut rng);
            let e = backoff_delay(&equal, 3, 0.0, &mut rng);
            assert!(
                (0.0..0.4).contains(&f) && (0.2..0.4).contains(&e),
                "{f} {e}"
            );
        }
        let deco = policy(r#"{"backoff":{"base_ms":100,"max_ms":1000,"jitter":"decorrelated"}}"#);
        let mut prev = 0.0;
        for k in 1..50 {
            let d = backoff_delay(&deco, k, prev, &mut rng);
            let hi = if k == 1 { 0.3 } else { 3.0 * prev };
            assert!(
                d >= 0.1 && d <= hi.min(1.0) + 1e-12,
                "k={k} d={d} prev={prev}"
            );
            prev = d;
        }
    }
}
