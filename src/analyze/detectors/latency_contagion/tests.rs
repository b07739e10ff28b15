//! latency_contagion on generated systems: a slow db infecting its callers, a quiet system,
//! and a shared pool (an endpoint that never calls db slowing down with the rest).

use super::*;
use crate::analyze::testkit::{scenario, Frames, Scenario, SpanSpec, T0};
use crate::analyze::{analyze, Analysis, AnalyzeOptions};
use crate::model::columns::kind;
use crate::model::window::Window;

fn run(frames: &Frames, opts: &AnalyzeOptions) -> Analysis {
    analyze(&frames.dataset(), opts).unwrap()
}

fn findings(a: &Analysis) -> Vec<Finding> {
    LatencyContagion.detect(&a.context())
}

#[test]
fn slow_db_infects_api_and_frontend() {
    let a = run(
        &scenario(&Scenario {
            fault: Some((240, 420)),
            ..Default::default()
        }),
        &AnalyzeOptions::default(),
    );
    let f = findings(&a);
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = &f[0];
    assert_eq!(f.services, ["db", "api", "frontend"]);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.metrics["wait_share.api.db"] > 0.8, "{:?}", f.metrics);
    assert!(f.metrics["child_wait_share.api"] > 0.9);
    let (b, i) = (
        f.metrics["critical_path_share_baseline.db"],
        f.metrics["critical_path_share_incident.db"],
    );
    assert!(i > b, "db critical-path share {b} → {i}");
    assert_eq!(
        f.evidence.trace_ids.len(),
        crate::analyze::critpath::TOP_TRACES
    );
    assert!(
        f.title.starts_with("db slowed its callers: db → api"),
        "{}",
        f.title
    );
    let c = contagion(&a.context());
    assert_eq!(c.sources, vec![a.graph.nodes.get("db").unwrap()]);
}

#[test]
fn uninstrumented_or_skewed_db_is_still_the_source() {
    for sc in [
        Scenario {
            fault: Some((240, 420)),
            db_uninstrumented: true,
            ..Default::default()
        },
        Scenario {
            fault: Some((240, 420)),
            db_skew_ms: 300,
            ..Default::default()
        },
    ] {
        let a = run(&scenario(&sc), &AnalyzeOptions::default());
        let f = findings(&a);
        assert_eq!(f.len(), 1, "{sc:?}: {f:#?}");
        assert_eq!(f[0].services[..2], ["db", "api"], "{sc:?}");
        assert!(f[0].metrics["wait_share.api.db"] > 0.8, "{sc:?}");
    }
}

#[test]
fn quiet_system_says_nothing() {
    let a = run(&scenario(&Scenario::default()), &AnalyzeOptions::default());
    assert!(findings(&a).is_empty());
    let given = AnalyzeOptions {
        incident: Some(Window::new(T0 + 300 * NS_PER_S, T0 + 600 * NS_PER_S)),
        baseline: Some(Window::new(T0, T0 + 300 * NS_PER_S)),
    };
    let a = run(&scenario(&Scenario::default()), &given);
    assert_eq!(contagion(&a.context()), Contagion::default());
}

/// fe → api; api's `GET /slow` calls db, `GET /other` (one request in ten) does not. From
/// 300 s db turns 10× slower and `/other` 3 → 7 ms (it waits for a worker held by /slow).
fn shared_pool_frames() -> Frames {
    let mut f = Frames::default();
    let mut id = 0u64;
    let mut next = || {
        id += 1;
        id
    };
    for k in 0..6000i64 {
        let (at, slow) = (k * 100, k >= 3000);
        let other = k % 10 == 0;
        let tr = k as u128 + 1;
        let api_own = if other {
            if slow {
                6
            } else {
                2
            }
        } else {
            1
        };
        let db = if other {
            0
        } else if slow {
            50
        } else {
            5
        };
        let api_dur = api_own + db + 1;
        let (fe, cl, api) = (next(), next(), next());
        f.push(SpanSpec::new(
            tr,
            fe,
            0,
            "fe",
            kind::SERVER,
            at,
            at + api_dur + 4,
        ));
        f.push(SpanSpec::new(
            tr,
            cl,
            fe,
            "fe",
            kind::CLIENT,
            at + 1,
            at + api_dur + 3,
        ));
        let mut s = SpanSpec::new(tr, api, cl, "api", kind::SERVER, at + 2, at + api_dur + 2);
        s.name = if other { "GET /other" } else { "GET /slow" }.into();
        f.push(s);
        if !other {
            let (c, d) = (next(), next());
            let t0 = at + 2 + api_own;
            f.push(SpanSpec::new(
                tr,
                c,
                api,
                "api",
                kind::CLIENT,
                t0,
                t0 + db + 1,
            ));
            f.push(SpanSpec::new(tr, d, c, "db", kind::SERVER, t0, t0 + db));
        }
    }
    f
}

#[test]
fn endpoint_that_never_calls_the_source_is_called_out() {
    let opts = AnalyzeOptions {
        incident: Some(Window::new(T0 + 300 * NS_PER_S, T0 + 600 * NS_PER_S)),
        baseline: Some(Window::new(T0, T0 + 300 * NS_PER_S)),
    };
    let a = run(&shared_pool_frames(), &opts);
    let f = findings(&a);
    assert_eq!(f.len(), 1, "{f:#?}");
    let ratio = f[0].metrics["shared_pool_latency_ratio.api.GET /other"];
    assert!((ratio - 7.0 / 3.0).abs() < 0.01, "{ratio}"); // 3 → 7 ms
    assert!(!f[0]
        .metrics
        .contains_key("shared_pool_latency_ratio.api.GET /slow"));
    assert!(f[0].title.contains("api GET /other"), "{}", f[0].title);
}
