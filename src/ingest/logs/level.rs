//! Log levels as loggers write them → OTLP severity numbers (TRACE 1, DEBUG 5, INFO 9,
//! WARN 13, ERROR 17, FATAL 21; the data model's bands are 1–4, 5–8, … 21–24).

/// How a logger numbers its levels when it writes numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LevelScale {
    /// pino / bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
    Pino,
    /// OTLP `SeverityNumber` 1–24, taken as is.
    Otlp,
    /// Unknown: multiples of ten 10–60 read as pino, 1–24 as OTLP, anything else unknown.
    Guess,
}

const TRACE: i32 = 1;
const DEBUG: i32 = 5;
const INFO: i32 = 9;
/// Google Cloud NOTICE: above INFO, below WARNING (the data model's INFO2).
const NOTICE: i32 = 10;
const WARN: i32 = 13;
const ERROR: i32 = 17;
const FATAL: i32 = 21;
/// Google Cloud ALERT and EMERGENCY: above CRITICAL (FATAL2, FATAL3).
const ALERT: i32 = 22;
const EMERGENCY: i32 = 23;
/// OTLP severity numbers run 1..=24.
const OTLP_MAX: i32 = 24;
/// Severity numbers per OTLP band (TRACE 1–4, DEBUG 5–8, …).
const BAND: i32 = 4;

/// Maps a text level (any case; slog's `INFO+2` offsets too). `None` when unknown, and for
/// Google Cloud `DEFAULT`, which means "no level".
pub(crate) fn from_text(text: &str) -> Option<i32> {
    let (name, offset) = split_offset(text.trim());
    let Some((_, base)) = NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) else {
        return from_number_text(name);
    };
    Some((base + offset).clamp(TRACE, OTLP_MAX))
}

/// Level names (compared ignoring case) of every logger in the table, with their numbers.
const NAMES: [(&str, i32); 27] = [
    ("info", INFO),
    ("error", ERROR),
    ("warn", WARN),
    ("warning", WARN),
    ("debug", DEBUG),
    ("trace", TRACE),
    ("fatal", FATAL),
    ("critical", FATAL),
    ("panic", FATAL),
    ("dpanic", FATAL),
    ("notice", NOTICE),
    ("alert", ALERT),
    ("emergency", EMERGENCY),
    ("information", INFO),
    ("informational", INFO),
    ("err", ERROR),
    ("eror", ERROR),
    ("wrn", WARN),
    ("dbg", DEBUG),
    ("trc", TRACE),
    ("crit", FATAL),
    ("ftl", FATAL),
    ("emerg", EMERGENCY),
    ("finest", TRACE),
    ("fine", DEBUG),
    ("inf", INFO),
    ("verbose", DEBUG),
];

/// slog writes levels between the named ones as `WARN+2` / `INFO-4`.
fn split_offset(text: &str) -> (&str, i32) {
    let Some(at) = text.find(['+', '-']).filter(|&i| i > 0) else {
        return (text, 0);
    };
    match text[at..].parse::<i32>() {
        Ok(n) => (&text[..at], n.clamp(-BAND, BAND)),
        Err(_) => (text, 0),
    }
}

/// A level written as a number inside a string (`"30"`): read on the guessing scale.
fn from_number_text(text: &str) -> Option<i32> {
    text.parse::<i64>()
        .ok()
        .and_then(|n| from_number(n, LevelScale::Guess))
}

/// Maps a numeric level on `scale`.
pub(crate) fn from_number(n: i64, scale: LevelScale) -> Option<i32> {
    match scale {
        LevelScale::Pino => Some(pino(n)),
        LevelScale::Otlp => otlp(n),
        LevelScale::Guess if n % 10 == 0 && (10..=60).contains(&n) => Some(pino(n)),
        LevelScale::Guess => otlp(n),
    }
}

/// pino / bunyan bands: below 20 trace, below 30 debug, … 60 and above fatal.
fn pino(n: i64) -> i32 {
    match n {
        ..20 => TRACE,
        20..30 => DEBUG,
        30..40 => INFO,
        40..50 => WARN,
        50..60 => ERROR,
        _ => FATAL,
    }
}

fn otlp(n: i64) -> Option<i32> {
    i32::try_from(n)
        .ok()
        .filter(|n| (TRACE..=OTLP_MAX).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_levels_of_every_logger_map_to_otlp_bands() {
        let cases = [
            ("trace", 1),
            ("DEBUG", 5),
            ("info", 9),
            ("Info", 9),
            ("NOTICE", 10),
            ("warn", 13),
            ("WARNING", 13),
            ("error", 17),
            ("ERROR", 17),
            ("dpanic", 21),
            ("panic", 21),
            ("fatal", 21),
            ("CRITICAL", 21),
            ("ALERT", 22),
            ("EMERGENCY", 23),
            ("WARN+2", 15),
            ("INFO-4", 5),
            ("30", 9),
        ];
        for (text, want) in cases {
            assert_eq!(from_text(text), Some(want), "{text}");
        }
        assert_eq!(from_text("DEFAULT"), None);
        assert_eq!(from_text("loud"), None);
        assert_eq!(from_text(""), None);
        assert_eq!(from_text("-"), None);
    }

    #[test]
    fn numbers_follow_the_scale() {
        assert_eq!(from_number(30, LevelScale::Pino), Some(9));
        assert_eq!(from_number(60, LevelScale::Pino), Some(21));
        assert_eq!(from_number(35, LevelScale::Pino), Some(9));
        assert_eq!(from_number(10, LevelScale::Otlp), Some(10));
        assert_eq!(from_number(50, LevelScale::Otlp), None);
        assert_eq!(from_number(40, LevelScale::Guess), Some(13));
        assert_eq!(from_number(17, LevelScale::Guess), Some(17));
        assert_eq!(from_number(i64::MIN, LevelScale::Guess), None);
    }
}
