//! The damage-tolerant gzip reader: cuts, corrupt members, false member headers.

use std::io::{Read, Write};

use super::*;

fn lines(n: usize, tag: &str) -> Vec<u8> {
    (0..n)
        .map(|i| format!("{{\"{tag}\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i % 50)))
        .collect::<String>()
        .into_bytes()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn salvage(bytes: &[u8]) -> (Vec<u8>, Vec<Damage>) {
    let log = DamageLog::default();
    let mut out = Vec::new();
    SalvageGz::new(bytes, log.clone())
        .read_to_end(&mut out)
        .unwrap();
    (out, log.entries())
}

/// What a plain streaming decoder hands out before it fails on the cut.
fn before_error(bytes: &[u8]) -> Vec<u8> {
    let mut dec = flate2::read::GzDecoder::new(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = dec.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

#[test]
fn truncated_gzip_keeps_every_complete_line_before_the_cut() {
    let text = lines(5000, "a");
    let gz = gzip(&text);
    for cut in [20, gz.len() / 10, gz.len() / 3, gz.len() / 2, gz.len() - 9] {
        let (out, damage) = salvage(&gz[..cut]);
        let readable = before_error(&gz[..cut]);
        let complete = readable
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        assert!(out.starts_with(&text[..complete]), "cut at {cut}");
        assert!(text.starts_with(out.strip_suffix(b"\n").unwrap_or(&out)));
        assert!(
            out.is_empty() || out.ends_with(b"\n"),
            "partial line not closed"
        );
        assert_eq!(damage.len(), 1, "cut at {cut}: {damage:?}");
        assert!(damage[0].cut);
        assert!(damage[0].at <= cut as u64);
    }
}

#[test]
fn whole_gzip_and_concatenated_members_read_without_damage() {
    let (a, b) = (lines(300, "a"), lines(300, "b"));
    let mut both = gzip(&a);
    both.extend(gzip(&b));
    let (out, damage) = salvage(&both);
    assert_eq!(out, [a, b].concat());
    assert!(damage.is_empty(), "{damage:?}");
}

#[test]
fn corrupt_gzip_member_is_skipped_and_reading_resumes_at_the_next() {
    let (a, b, c) = (lines(2000, "a"), lines(2000, "b"), lines(2000, "c"));
    let (ga, mut gb, gc) = (gzip(&a), gzip(&b), gzip(&c));
    let mid = gb.len() / 2;
    gb[mid..mid + 16].fill(0xA5);
    let resume = (ga.len() + gb.len()) as u64;
    let (out, damage) = salvage(&[ga.clone(), gb, gc].concat());
    assert!(out.starts_with(&a), "the member before the damage is whole");
    assert!(out.ends_with(&c), "the member after the damage is whole");
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert!(!damage[0].cut);
    assert_eq!(damage[0].resumed_at, Some(resume));
    assert_eq!(damage[0].at, ga.len() as u64, "the damaged member's start");
}

#[test]
fn garbage_after_the_last_member_is_reported_not_fatal() {
    let a = lines(100, "a");
    let mut bytes = gzip(&a);
    let end = bytes.len() as u64;
    bytes.extend_from_slice(&[0u8; 64]);
    let (out, damage) = salvage(&bytes);
    assert_eq!(out, a);
    assert_eq!(damage.len(), 1);
    assert_eq!((damage[0].at, damage[0].resumed_at), (end, None));
}
