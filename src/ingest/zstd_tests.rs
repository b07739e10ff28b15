//! The damage-tolerant zstd readers: cut streams, corrupt frames, the Collector's records.

use super::*;

fn lines(n: usize, tag: &str) -> Vec<u8> {
    (0..n)
        .map(|i| format!("{{\"{tag}\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i * 7 % 61)))
        .collect::<String>()
        .into_bytes()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

fn stream(bytes: &[u8]) -> (Vec<u8>, Vec<Damage>) {
    let log = DamageLog::default();
    let out = decode_stream(bytes, &log);
    (out, log.entries())
}

/// The output less the line break closing a partial line is a prefix of `text`.
fn assert_prefix(out: &[u8], text: &[u8]) {
    let body = out.strip_suffix(b"\n").unwrap_or(out);
    assert!(text.starts_with(body), "output is not what was compressed");
}

#[test]
fn truncated_zstd_keeps_every_frame_and_block_before_the_cut() {
    let parts: Vec<Vec<u8>> = (0..12).map(|i| lines(400, &format!("f{i}"))).collect();
    let frames: Vec<Vec<u8>> = parts.iter().map(|p| zstd(p)).collect();
    let all = frames.concat();
    let text = parts.concat();
    for cut in [7, all.len() / 5, all.len() / 2, all.len() - 3] {
        let (out, damage) = stream(&all[..cut]);
        assert_prefix(&out, &text);
        let whole: usize = (0..frames.len())
            .take_while(|&i| frames[..=i].iter().map(Vec::len).sum::<usize>() <= cut)
            .map(|i| parts[i].len())
            .sum();
        assert!(out.len() >= whole, "cut at {cut}: a whole frame was lost");
        assert_eq!(damage.len(), 1, "{damage:?}");
        assert!(damage[0].cut && damage[0].at <= cut as u64);
    }
    // One large frame of many blocks: the blocks before the cut are kept, not only what
    // the decoder handed out before its window.
    let big = lines(40_000, "big");
    let z = zstd(&big);
    let (out, damage) = stream(&z[..z.len() * 3 / 4]);
    assert_prefix(&out, &big);
    assert!(out.len() >= big.len() / 2, "{} of {}", out.len(), big.len());
    assert!(damage[0].cut);
}

#[test]
fn corrupt_zstd_frame_is_skipped_and_reading_resumes_at_the_next() {
    let (a, b, c) = (lines(3000, "a"), lines(3000, "b"), lines(3000, "c"));
    let (za, mut zb, zc) = (zstd(&a), zstd(&b), zstd(&c));
    let mid = zb.len() / 2;
    zb[mid..mid + 32].fill(0xff);
    let resume = (za.len() + zb.len()) as u64;
    let (out, damage) = stream(&[za, zb, zc].concat());
    assert!(out.starts_with(&a));
    assert!(out.ends_with(&c));
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert_eq!((damage[0].cut, damage[0].resumed_at), (false, Some(resume)));
}

fn framed(records: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    let mut starts = Vec::new();
    for r in records {
        let z = zstd(r);
        starts.push(out.len());
        out.extend_from_slice(&(z.len() as u32).to_be_bytes());
        out.extend_from_slice(&z);
    }
    (out, starts)
}

#[test]
fn collector_records_read_up_to_a_cut_and_past_a_corrupt_record() {
    let records: Vec<Vec<u8>> = (0..6)
        .map(|i| lines(200, &format!("r{i}")).trim_ascii_end().to_vec())
        .collect();
    let (bytes, starts) = framed(&records);
    let log = DamageLog::default();
    let out = decode_framed(&bytes[..bytes.len() - 10], &log);
    let first5: Vec<u8> = records[..5]
        .iter()
        .flat_map(|r| [&r[..], b"\n"].concat())
        .collect();
    assert!(out.starts_with(&first5));
    assert!(log.entries()[0].cut);

    let mut bad = bytes.clone();
    let mid = starts[2] + (starts[3] - starts[2]) / 2;
    bad[mid..mid + 24].fill(0);
    let log = DamageLog::default();
    let out = decode_framed(&bad, &log);
    let last3: Vec<u8> = records[3..]
        .iter()
        .flat_map(|r| [&r[..], b"\n"].concat())
        .collect();
    assert!(out.starts_with(&records[0]) && out.ends_with(&last3));
    let damage = log.entries();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert_eq!(damage[0].resumed_at, Some(starts[3] as u64));

    let mut bad_len = bytes;
    bad_len[starts[1]] = 0x7f;
    let log = DamageLog::default();
    let out = decode_framed(&bad_len, &log);
    let from1: Vec<u8> = records[1..]
        .iter()
        .flat_map(|r| [&r[..], b"\n"].concat())
        .collect();
    assert!(
        out.ends_with(&from1),
        "the record with the bad length is read by its frame"
    );
    assert_eq!(log.entries()[0].resumed_at, Some(starts[2] as u64));
}
