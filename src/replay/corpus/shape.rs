//! Topologies of generated cases: an entry, application services linked as a chain or a
//! fan-out (with cross links), shared databases, queue consumers behind PRODUCER/CONSUMER
//! edges and an external API. Nodes are numbered so that every link goes from a lower to a
//! higher index: the graph is acyclic and the visit counts follow in one pass.

use crate::replay::sim::rng::Rng;

use super::draw::{chance, int, log_uniform, pick, uniform};

/// Most expected visits per trace: keeps a 60-service fan-out affordable to simulate.
pub const MAX_VISITS_PER_TRACE: f64 = 24.0;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Entry,
    App,
    Consumer,
    Db,
    External,
}

/// One service of the topology.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub role: Role,
    /// Own time, lognormal (ms).
    pub median_ms: f64,
    pub p99_ms: f64,
    /// One-way network delay into it, lognormal median (ms); p99 is 3 times that.
    pub net_ms: f64,
    pub instances: u32,
    /// `postgresql`, `redis`, ... for a database.
    pub db_system: Option<&'static str>,
    /// Exports no spans (an uninstrumented dependency).
    pub hidden: bool,
}

/// A call from `from` to `to`: `count` tries each made with probability `p`.
#[derive(Debug, Clone)]
pub struct Link {
    pub from: usize,
    pub to: usize,
    pub count: u32,
    pub p: f64,
    pub asynchronous: bool,
}

#[derive(Debug, Clone)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    /// Probability that a new service hangs below the previous one (a chain) rather than
    /// below any earlier one (a fan-out).
    pub chain_bias: f64,
}

const APP_NAMES: [&str; 40] = [
    "api",
    "auth",
    "users",
    "profile",
    "session",
    "catalog",
    "search",
    "recommend",
    "cart",
    "checkout",
    "orders",
    "payment",
    "billing",
    "pricing",
    "quote",
    "inventory",
    "stock",
    "shipping",
    "delivery",
    "tracking",
    "notify",
    "reviews",
    "ratings",
    "media",
    "images",
    "geo",
    "currency",
    "tax",
    "fraud",
    "ledger",
    "accounts",
    "loyalty",
    "coupons",
    "ads",
    "analytics",
    "config",
    "flags",
    "audit",
    "returns",
    "wishlist",
];
const ENTRY_NAMES: [&str; 4] = ["frontend", "gateway", "web", "edge"];
const DB_SYSTEMS: [&str; 4] = ["postgresql", "mysql", "redis", "mongodb"];
const EXTERNAL_NAMES: [&str; 3] = ["payments-provider", "maps-api", "sms-gateway"];

/// Draws a topology of `n` services (4 to 60); `queue` forces a consumer, `sender` makes
/// the entry a load generator.
pub fn draw(rng: &mut Rng, n: usize, queue: bool, sender: bool) -> Graph {
    let n_db = if n >= 5 {
        ((n as f64 * uniform(rng, 0.08, 0.22)).round() as usize).clamp(1, 6)
    } else {
        1
    };
    let n_ext = usize::from(n >= 6 && chance(rng, 0.3));
    let n_cons = if queue || (n >= 5 && chance(rng, 0.35)) {
        1 + usize::from(n >= 20 && chance(rng, 0.5))
    } else {
        0
    };
    let n_app = n.saturating_sub(n_db + n_ext + n_cons).max(2);
    let chain_bias = uniform(rng, 0.0, 1.0);
    let mut g = Graph {
        nodes: Vec::new(),
        links: Vec::new(),
        chain_bias,
    };
    apps(rng, &mut g, n_app, sender);
    consumers(rng, &mut g, n_cons);
    databases(rng, &mut g, n_db);
    externals(rng, &mut g, n_ext);
    g.fit_visits();
    g
}

fn node(rng: &mut Rng, name: String, role: Role, median: (f64, f64)) -> Node {
    let median_ms = log_uniform(rng, median.0, median.1);
    let tail = match role {
        Role::External => uniform(rng, 1.5, 3.0),
        _ => uniform(rng, 2.0, 6.0),
    };
    let net_ms = match role {
        Role::External => log_uniform(rng, 5.0, 30.0),
        _ => log_uniform(rng, 0.1, 1.0),
    };
    Node {
        name,
        role,
        median_ms,
        p99_ms: median_ms * tail,
        net_ms,
        instances: if chance(rng, 0.4) {
            int(rng, 2, 4) as u32
        } else {
            1
        },
        db_system: None,
        hidden: false,
    }
}

fn apps(rng: &mut Rng, g: &mut Graph, n_app: usize, sender: bool) {
    let entry = if sender {
        "loadgen"
    } else {
        pick(rng, &ENTRY_NAMES)
    };
    let mut names: Vec<String> = APP_NAMES.iter().map(|s| s.to_string()).collect();
    shuffle(rng, &mut names);
    let mut e = node(rng, entry.to_string(), Role::Entry, (0.3, 3.0));
    e.instances = e.instances.max(1);
    g.nodes.push(e);
    for i in 1..n_app {
        let name = names
            .get(i - 1)
            .cloned()
            .unwrap_or_else(|| format!("svc-{i:02}"));
        let nd = node(rng, name, Role::App, (0.5, 15.0));
        g.nodes.push(nd);
        let parent = if chance(rng, g.chain_bias) {
            i - 1
        } else {
            int(rng, 0, i - 1)
        };
        let link = sync_link(rng, parent, i);
        g.links.push(link);
    }
    // Cross links (a service called from two places) keep the graph acyclic: low to high.
    for i in 1..n_app.saturating_sub(1) {
        if chance(rng, 0.15) {
            let to = int(rng, i + 1, n_app - 1);
            if !g.links.iter().any(|l| l.from == i && l.to == to) {
                let link = sync_link(rng, i, to);
                g.links.push(link);
            }
        }
    }
}

fn sync_link(rng: &mut Rng, from: usize, to: usize) -> Link {
    Link {
        from,
        to,
        count: if chance(rng, 0.15) { 2 } else { 1 },
        p: if chance(rng, 0.6) {
            1.0
        } else {
            uniform(rng, 0.3, 1.0)
        },
        asynchronous: false,
    }
}

/// Application services other than the entry (or the entry when it is the only one).
fn callers(g: &Graph) -> Vec<usize> {
    let apps: Vec<usize> = (0..g.nodes.len())
        .filter(|&i| g.nodes[i].role == Role::App)
        .collect();
    if apps.is_empty() {
        vec![0]
    } else {
        apps
    }
}

fn consumers(rng: &mut Rng, g: &mut Graph, n: usize) {
    let from = callers(g);
    for k in 0..n {
        let producer = *pick(rng, &from);
        let name = format!("{}-worker{}", g.nodes[producer].name, suffix(k));
        let i = g.nodes.len();
        g.nodes.push(node(rng, name, Role::Consumer, (2.0, 30.0)));
        g.links.push(Link {
            from: producer,
            to: i,
            count: 1,
            p: if chance(rng, 0.5) {
                1.0
            } else {
                uniform(rng, 0.3, 1.0)
            },
            asynchronous: true,
        });
    }
}

fn suffix(k: usize) -> String {
    if k == 0 {
        String::new()
    } else {
        format!("-{}", k + 1)
    }
}

fn databases(rng: &mut Rng, g: &mut Graph, n: usize) {
    let mut from = callers(g);
    from.extend((0..g.nodes.len()).filter(|&i| g.nodes[i].role == Role::Consumer));
    for k in 0..n {
        let system = *pick(rng, &DB_SYSTEMS);
        let first = *pick(rng, &from);
        let kind = if system == "redis" { "cache" } else { "db" };
        let name = format!("{}-{kind}{}", g.nodes[first].name, suffix(k));
        let i = g.nodes.len();
        let mut nd = node(rng, name, Role::Db, (0.3, 5.0));
        nd.db_system = Some(system);
        nd.hidden = chance(rng, 0.5);
        g.nodes.push(nd);
        // A shared database has several callers.
        let mut users = vec![first];
        for _ in 0..int(rng, 0, 2) {
            let u = *pick(rng, &from);
            if !users.contains(&u) {
                users.push(u);
            }
        }
        for u in users {
            let mut link = sync_link(rng, u, i);
            link.count = int(rng, 1, 3) as u32;
            g.links.push(link);
        }
    }
}

fn externals(rng: &mut Rng, g: &mut Graph, n: usize) {
    let from = callers(g);
    for _ in 0..n {
        let i = g.nodes.len();
        let name = pick(rng, &EXTERNAL_NAMES).to_string();
        let mut nd = node(rng, name, Role::External, (20.0, 150.0));
        nd.hidden = true;
        nd.instances = 1;
        g.nodes.push(nd);
        let caller = *pick(rng, &from);
        let link = sync_link(rng, caller, i);
        g.links.push(link);
    }
}

fn shuffle<T>(rng: &mut Rng, xs: &mut [T]) {
    for i in (1..xs.len()).rev() {
        let j = int(rng, 0, i);
        xs.swap(i, j);
    }
}

impl Graph {
    /// Expected visits of each node per external request.
    pub fn visits(&self) -> Vec<f64> {
        let mut v = vec![0.0; self.nodes.len()];
        v[0] = 1.0;
        for i in 0..self.nodes.len() {
            for l in self.links.iter().filter(|l| l.from == i) {
                v[l.to] += v[i] * l.count as f64 * l.p;
            }
        }
        v
    }

    /// Thins the call probabilities until a trace makes at most `MAX_VISITS_PER_TRACE`
    /// visits on average.
    fn fit_visits(&mut self) {
        for _ in 0..40 {
            if self.visits().iter().sum::<f64>() <= MAX_VISITS_PER_TRACE {
                return;
            }
            for l in &mut self.links {
                l.p = (l.p * 0.85).max(0.05);
            }
        }
    }

    /// Whether node `i` calls anything synchronously.
    pub fn has_sync_callees(&self, i: usize) -> bool {
        self.links.iter().any(|l| l.from == i && !l.asynchronous)
    }

    /// Synchronous callers of node `i`.
    pub fn sync_callers(&self, i: usize) -> Vec<usize> {
        let mut c: Vec<usize> = self
            .links
            .iter()
            .filter(|l| l.to == i && !l.asynchronous)
            .map(|l| l.from)
            .collect();
        c.sort_unstable();
        c.dedup();
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topologies_are_acyclic_named_uniquely_and_affordable() {
        for seed in 0..200 {
            let mut rng = Rng::new(seed);
            let n = int(&mut rng, 4, 60);
            let g = draw(&mut rng, n, seed % 3 == 0, seed % 7 == 0);
            assert!(g.links.iter().all(|l| l.from < l.to), "seed {seed}");
            let mut names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "seed {seed}: duplicate names");
            assert!(g.visits().iter().sum::<f64>() <= MAX_VISITS_PER_TRACE + 1e-9);
            if seed % 3 == 0 {
                assert!(g.nodes.iter().any(|n| n.role == Role::Consumer));
            }
        }
    }
}
