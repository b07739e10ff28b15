//! Chart specifications: the data behind each picture, computed apart from drawing so it can
//! be tested without pixels.

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// One line of a time-series panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub color: Rgb,
    /// (x, y) points in x order; gaps are simply missing points.
    pub points: Vec<(f64, f64)>,
}

/// A vertical marker (e.g. a service's onset) on a time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub label: String,
    pub color: Rgb,
}

/// One panel of a small-multiples grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    /// Colour of the title (e.g. the service's role).
    pub title_color: Rgb,
    pub y_label: String,
    pub lines: Vec<Line>,
    pub markers: Vec<Marker>,
}

/// A grid of time-series panels sharing one x axis and one shaded window.
#[derive(Debug, Clone, PartialEq)]
pub struct SmallMultiples {
    pub title: String,
    pub x_label: String,
    /// Panels per row.
    pub columns: usize,
    pub panels: Vec<Panel>,
    /// The shaded window (e.g. the incident), in x units.
    pub shade: Option<(f64, f64)>,
    pub shade_label: String,
    /// Legend entries drawn once under the title.
    pub legend: Vec<(String, Rgb)>,
}

/// One row of a horizontal bar chart: a label and one value per group.
#[derive(Debug, Clone, PartialEq)]
pub struct BarRow {
    pub label: String,
    pub label_color: Rgb,
    /// One value per group (NaN = no bar).
    pub values: Vec<f64>,
    /// Optional text drawn after the bars (e.g. "+3.0 s").
    pub note: String,
}

/// Horizontal bars, rows top to bottom, optionally grouped (baseline vs incident).
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    pub title: String,
    pub value_label: String,
    pub groups: Vec<(String, Rgb)>,
    pub rows: Vec<BarRow>,
    /// Optional error bars per row and group: (low, high).
    pub intervals: Vec<Vec<Option<(f64, f64)>>>,
}

/// A time × value heatmap of counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Left edges of the x cells, plus the right edge of the last.
    pub x_edges: Vec<f64>,
    /// Lower edges of the y cells, plus the upper edge of the last.
    pub y_edges: Vec<f64>,
    /// counts[x][y].
    pub counts: Vec<Vec<u32>>,
    pub shade: Option<(f64, f64)>,
}

/// One row of a span chart: an interval on the time axis (e.g. a service's degraded stretch).
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRow {
    pub label: String,
    pub label_color: Rgb,
    pub start: f64,
    pub end: f64,
    pub color: Rgb,
    /// Text drawn right of the interval (e.g. "+1 s after the source").
    pub note: String,
}

/// Intervals on a shared time axis, one row each, top to bottom (a Gantt-like chart).
#[derive(Debug, Clone, PartialEq)]
pub struct Spans {
    pub title: String,
    pub x_label: String,
    pub rows: Vec<SpanRow>,
    /// The x range drawn (e.g. the whole data range).
    pub x_range: (f64, f64),
    pub shade: Option<(f64, f64)>,
    pub shade_label: String,
    pub legend: Vec<(String, Rgb)>,
}

/// A node of the service graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    /// Call depth from the entry (0 = entry).
    pub layer: usize,
    pub color: Rgb,
    /// Drawn with a thick outline (the source, the contagion path).
    pub highlight: bool,
}

/// A directed edge of the service graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    /// Stroke width in pixels.
    pub width: u32,
    pub color: Rgb,
    pub label: String,
    pub highlight: bool,
}

/// The service graph, layered by call depth.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub title: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub legend: Vec<(String, Rgb)>,
}

/// Any chart, with the file stem it is written under (`charts/<stem>.png`).
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    SmallMultiples(SmallMultiples),
    Bars(Bars),
    Heatmap(Heatmap),
    Graph(Graph),
    Spans(Spans),
}

/// A chart and its file stem (a fixed ASCII name, never built from input data).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    pub stem: &'static str,
    /// One sentence under the chart in the HTML page.
    pub caption: String,
    pub chart: Chart,
}
