//! Terminal output decisions: whether stderr/stdout are terminals and whether to colour.

use std::io::IsTerminal;

/// True when progress bars may be drawn (stderr is a terminal and `CI` is not set).
pub fn progress_allowed() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// True when stdout may be coloured (a terminal, and `NO_COLOR` unset or empty).
pub fn colour_allowed() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
