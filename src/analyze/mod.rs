//! Analyze: the diagnosis. Spans → compact table → call graph → windows → per-service and
//! per-edge statistics → detectors → root-cause ranking.
//!
//! Entry point: [`analyze`]. Output: [`Analysis`], rendered by [`findings_document`]
//! (`cascade.findings/v1`) and [`summary_text`] (the terminal summary).

pub mod attempts;
pub mod backlog;
pub mod buckets;
pub mod confidence;
pub mod critpath;
pub mod detectors;
pub mod document;
pub mod edges;
pub mod errors;
mod frame_read;
pub mod graph;
pub mod incident;
pub mod infer;
pub mod intern;
pub mod little;
pub mod localize;
pub mod logs;
pub mod onset;
pub mod quality;
pub mod recovery;
pub mod rootcause;
pub mod scan;
pub mod selftime;
pub mod series;
pub mod services;
pub mod skew;
pub mod stats;
pub mod summary;
pub mod table;
#[cfg(test)]
pub mod testkit;
pub mod timerange;

use anyhow::Result;

pub use self::document::findings_document;
pub use self::summary::summary_text;
pub use crate::model::window::{parse_window, Window};

use self::attempts::Attempts;
use self::backlog::QueueSeries;
use self::critpath::CriticalPath;
use self::edges::EdgeStats;
use self::errors::ErrorOrigins;
use self::graph::CallGraph;
use self::incident::Windows;
use self::logs::LogEvidence;
use self::quality::DataQuality;
use self::rootcause::{Role, RootCause};
use self::services::ServiceStats;
use self::table::SpanTable;
use crate::ingest::Dataset;
use crate::model::finding::Finding;

/// What to analyse; both windows already parsed (see [`parse_window`]).
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Incident window. Default `None`: detected from the data (system error rate and entry
    /// p99 departing from their median + k·MAD over buckets); no incident if none departs.
    pub incident: Option<Window>,
    /// Baseline window. Default `None`: the stretch before the incident (after it when the
    /// stretch before is shorter than three buckets); the whole range without an incident.
    pub baseline: Option<Window>,
}

/// Everything the analysis found; later stages (report, replay) read it.
#[derive(Debug)]
pub struct Analysis {
    pub table: SpanTable,
    pub graph: CallGraph,
    pub attempts: Attempts,
    /// Self time per row in ns (`selftime::NOT_SERVER` for non-server rows).
    pub self_ns: Vec<i64>,
    pub windows: Windows,
    /// Ordered by name.
    pub services: Vec<ServiceStats>,
    /// Role of each service, aligned with `services`.
    pub roles: Vec<Role>,
    /// In graph edge order (sorted by caller, callee).
    pub edges: Vec<EdgeStats>,
    pub errors: ErrorOrigins,
    pub baseline_errors: ErrorOrigins,
    pub logs: LogEvidence,
    /// Queue evidence per service (see [`backlog`]): by service, strongest kind first.
    pub queues: Vec<QueueSeries>,
    /// Sorted: worst severity first.
    pub findings: Vec<Finding>,
    /// Best first.
    pub root_causes: Vec<RootCause>,
    pub quality: DataQuality,
    /// Per-node share of the traces' critical paths, baseline vs incident.
    pub critical_path: CriticalPath,
    /// How much of the user-facing change each node explains.
    pub localization: localize::Localization,
    /// Roles of the virtual nodes (uninstrumented dependencies): (node id, role).
    pub virtual_roles: Vec<(u32, Role)>,
}

impl Analysis {
    /// Index into `services` of the service with id `id` (`None` for a virtual node): a
    /// binary search by name, since `services` is ordered by name.
    pub fn service_index(&self, id: u32) -> Option<usize> {
        if id as usize >= self.table.services.len() {
            return None;
        }
        let name = self.table.services.name(id);
        let k = self
            .services
            .binary_search_by(|s| s.name.as_str().cmp(name))
            .ok()?;
        (self.services[k].id == id).then_some(k)
    }

    /// The detector context over this analysis.
    pub fn context(&self) -> detectors::Context<'_> {
        detectors::Context {
            table: &self.table,
            graph: &self.graph,
            attempts: &self.attempts,
            windows: &self.windows,
            services: &self.services,
            edges: &self.edges,
            self_ns: &self.self_ns,
            errors: &self.errors,
            baseline_errors: &self.baseline_errors,
            logs: &self.logs,
            critical_path: &self.critical_path,
            queues: &self.queues,
        }
    }
}

/// Runs the whole diagnosis on a loaded dataset.
pub fn analyze(data: &Dataset, opts: &AnalyzeOptions) -> Result<Analysis> {
    let (table, quality) = quality::assess(data)?;
    let graph = graph::build_graph(&table, &data.links);
    let attempts = attempts::group_attempts(&table, &graph);
    let wait_starts = selftime::wait_starts(&table, &graph, &attempts);
    let self_ns = selftime::self_times(&table, &wait_starts);
    let windows = incident::windows(&table, opts.incident, opts.baseline);
    let services = services::service_stats(&table, &self_ns, &windows);
    let edges = edges::edge_stats(&table, &graph, &attempts, &windows);
    // Without an incident the errors of the whole range (its last instant included).
    let whole = Window::new(
        windows.range.start_ns,
        windows.range.end_ns.saturating_add(1),
    );
    let focus = windows.incident.unwrap_or(whole);
    let errors = errors::error_origins(&table, &graph, focus);
    let baseline_errors = errors::error_origins(&table, &graph, windows.baseline);
    let logs = logs::log_evidence(&data.logs, windows.incident, windows.baseline);
    let critical_path = critpath::critical_path(&table, &graph, &windows, &wait_starts);
    let queues = backlog::queue_evidence(&table, &graph, &services, &data.logs, &windows);
    let mut a = Analysis {
        table,
        graph,
        attempts,
        self_ns,
        windows,
        services,
        roles: Vec::new(),
        edges,
        errors,
        baseline_errors,
        logs,
        queues,
        findings: Vec::new(),
        root_causes: Vec::new(),
        quality,
        critical_path,
        localization: Default::default(),
        virtual_roles: Vec::new(),
    };
    let ctx = a.context();
    let findings = detectors::run_all(&ctx);
    let localization = localize::localize(&ctx);
    let root_causes = rootcause::rank(&ctx, &localization);
    let roles = rootcause::roles(&ctx, &root_causes, &localization);
    let virtual_roles = rootcause::virtual_roles(&ctx, &root_causes, &localization);
    (a.findings, a.root_causes, a.roles) = (findings, root_causes, roles);
    a.virtual_roles = virtual_roles;
    a.localization = localization;
    Ok(a)
}

#[cfg(test)]
mod tests;
