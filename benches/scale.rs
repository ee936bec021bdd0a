//! Scale-out and incremental runs (issue 16, part 5), on the same ~1.1 GB
//! of CloudTrail (28 days of 500-record gzipped files, each file's events
//! inside its folder's day):
//!
//! - one run (`ingest --out`), and one run keeping the dataset
//!   (`--state --out`);
//! - the same work as 1, 2 and 4 shards run one after another on this
//!   machine (`--state --shard I/N`), then the merge (`--state --out`),
//!   whose evidence must be byte-identical to the one run's;
//! - a daily run after 13 and after 27 days of history (only the new
//!   day's objects are read), against a plain run over that day's files
//!   alone.
//!
//! `cargo bench --bench scale` (PROOFPACK_BENCH_MB sets the corpus size).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{build_release, measure};

const PER_FILE: usize = 500;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_mb = common::corpus_mb();
    let binary = build_release(root);
    let data = root.join("target/bench-data");
    let corpus = data.join(format!("cloudtrail-{target_mb}mb-daily"));
    let done = corpus.with_extension("done");
    if !done.exists() {
        let made = common::cloudtrail::generate(&corpus, target_mb * 1_000_000, PER_FILE, true);
        std::fs::write(&done, format!("{} {}", made.0, made.1)).unwrap();
    }
    let text = std::fs::read_to_string(&done).unwrap();
    let mut parts = text.split_whitespace().map(|n| n.parse::<u64>().unwrap());
    let (records, bytes) = (parts.next().unwrap(), parts.next().unwrap());
    let files = walk(&corpus);
    println!(
        "# {} files, {records} records, {:.0} MB of JSON; 28 days",
        files.len(),
        bytes as f64 / 1e6
    );
    let work = data.join("scale");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let corpus_arg = corpus.display().to_string();

    println!("\n## Shards\n");
    println!(
        "| run | reading (s) | merge (s) | total (s) | vs one run with state | peak RSS (MiB) |"
    );
    println!("|---|---|---|---|---|---|");
    // Best of two, each in fresh folders: small-file creation right after
    // deleting thousands of files is slow on ext4, so nothing is deleted
    // until the end.
    let best = |f: &mut dyn FnMut(usize) -> (f64, f64, u64)| {
        let (a, b) = (f(0), f(1));
        if a.0 + a.1 <= b.0 + b.1 {
            a
        } else {
            b
        }
    };
    let plain = |rep: usize| work.join(format!("plain-{rep}"));
    let (plain_secs, _, plain_rss) = best(&mut |rep| {
        let (secs, rss) = ingest(&binary, &[&corpus_arg], &plain(rep), None, &[]);
        (secs, 0.0, rss)
    });
    row("one run, no state", plain_secs, plain_secs, None, plain_rss);
    let (one_secs, _, one_rss) = best(&mut |rep| {
        let out = work.join(format!("one-{rep}"));
        let state = work.join(format!("one-state-{rep}"));
        let (secs, rss) = ingest(&binary, &[&corpus_arg], &out, Some(&state), &[]);
        assert_same(&plain(0), &out);
        drop_tables(&out);
        (secs, 0.0, rss)
    });
    row(
        "one run keeping the dataset",
        one_secs,
        one_secs,
        None,
        one_rss,
    );
    for n in [1u32, 2, 4] {
        let (reading, merge_secs, rss) = best(&mut |rep| {
            let state = work.join(format!("state-{n}-{rep}"));
            let mut reading = 0.0;
            let mut rss = 0;
            for i in 0..n {
                let (secs, peak) = ingest_no_out(&binary, &corpus_arg, &state, &format!("{i}/{n}"));
                reading += secs;
                rss = rss.max(peak);
            }
            let merged = work.join(format!("merged-{n}-{rep}"));
            let (merge_secs, merge_rss) =
                ingest(&binary, &[&corpus_arg], &merged, Some(&state), &[]);
            assert_same(&plain(0), &merged);
            drop_tables(&merged);
            (reading, merge_secs, rss.max(merge_rss))
        });
        let total = reading + merge_secs;
        row(
            &format!("{n} shard(s), one after another, then the merge"),
            reading,
            total,
            Some((merge_secs, total / one_secs - 1.0)),
            rss,
        );
    }

    println!("\n## A daily run\n");
    println!("| run | window | objects read | time (s) | peak RSS (MiB) |");
    println!("|---|---|---|---|---|");
    for history in [13u32, 27] {
        let trail = work.join(format!("trail-{history}"));
        let state = work.join(format!("daily-state-{history}"));
        link_days(&corpus, &trail, 1..=history);
        let trail_arg = trail.display().to_string();
        // The history, read once (not timed).
        ingest(
            &binary,
            &[&trail_arg],
            &work.join("history-out"),
            Some(&state),
            &[],
        );
        // The next day arrives; the daily run reads it alone.
        let day = history + 1;
        link_days(&corpus, &trail, day..=day);
        let (since, until) = (date(day), date(day + 1));
        let window = ["--since", since.as_str(), "--until", until.as_str()];
        let out = work.join(format!("daily-{history}"));
        let (secs, rss) = ingest(&binary, &[&trail_arg], &out, Some(&state), &window);
        let run = last_run(&state);
        println!(
            "| day {day} after {history} days kept | {since}..{until} | {} new, {} kept | {secs:.2} | {} |",
            run["counts"]["read"], run["counts"]["reused"], rss >> 20
        );
        // The same evidence as a plain run over the whole trail.
        let full = work.join(format!("daily-full-{history}"));
        let (full_secs, full_rss) = ingest(&binary, &[&trail_arg], &full, None, &window);
        assert_same(&full, &out);
        println!(
            "| day {day}, no state: every file of {day} days read again | {since}..{until} | {} | {full_secs:.2} | {} |",
            walk(&trail).len(),
            full_rss >> 20
        );
        if history == 27 {
            let alone = work.join("day-alone");
            link_days(&corpus, &alone, day..=day);
            let (alone_secs, alone_rss) = ingest(
                &binary,
                &[&alone.display().to_string()],
                &work.join("alone-out"),
                None,
                &window,
            );
            println!(
                "| day {day}'s files alone, no state | {since}..{until} | {} | {alone_secs:.2} | {} |",
                walk(&alone).len(),
                alone_rss >> 20
            );
        }
        let _ = std::fs::remove_dir_all(&state);
    }
    let _ = std::fs::remove_dir_all(&work);
}

fn row(name: &str, reading: f64, total: f64, merge: Option<(f64, f64)>, rss: u64) {
    let (merge, overhead) = match merge {
        Some((secs, over)) => (format!("{secs:.2}"), format!("{:+.1}%", over * 100.0)),
        None => (String::new(), String::new()),
    };
    println!(
        "| {name} | {reading:.2} | {merge} | {total:.2} | {overhead} | {} |",
        rss >> 20
    );
}

/// Removes an evidence folder's large tables once compared.
fn drop_tables(dir: &Path) {
    for table in ["access_events.csv", "access_events.parquet"] {
        let _ = std::fs::remove_file(dir.join(table));
    }
}

fn date(day: u32) -> String {
    // Day 29 of November is the first day after the corpus.
    format!("2026-11-{day:02}T00:00:00Z")
}

/// `ingest INPUTS --out OUT [--state STATE] EXTRA`: wall seconds, peak RSS.
fn ingest(
    binary: &Path,
    inputs: &[&str],
    out: &Path,
    state: Option<&Path>,
    extra: &[&str],
) -> (f64, u64) {
    let _ = std::fs::remove_dir_all(out);
    let mut cmd = Command::new(binary);
    cmd.arg("ingest")
        .args(inputs)
        .arg("--out")
        .arg(out)
        .args(extra);
    if let Some(state) = state {
        cmd.arg("--state").arg(state);
    }
    cmd.stdout(Stdio::null());
    let (secs, rss, ok) = measure(&mut cmd);
    assert!(ok, "proofpack ingest failed");
    (secs, rss)
}

/// One shard into the state folder, no evidence folder.
fn ingest_no_out(binary: &Path, corpus: &str, state: &Path, shard: &str) -> (f64, u64) {
    let mut cmd = Command::new(binary);
    cmd.args(["ingest", corpus, "--shard", shard])
        .arg("--state")
        .arg(state)
        .stdout(Stdio::null());
    let (secs, rss, ok) = measure(&mut cmd);
    assert!(ok, "proofpack ingest --shard {shard} failed");
    (secs, rss)
}

fn last_run(state: &Path) -> serde_json::Value {
    let log = std::fs::read_to_string(state.join("runs.jsonl")).unwrap();
    serde_json::from_str(log.lines().last().unwrap()).unwrap()
}

/// The evidence tables must be the same bytes.
fn assert_same(a: &Path, b: &Path) {
    for table in ["access_events.parquet", "access_events.csv", "summary.json"] {
        let same = same_bytes(&a.join(table), &b.join(table));
        let note = if table == "summary.json" {
            " (its inputs differ only if the command lines do)"
        } else {
            ""
        };
        assert!(
            same,
            "{table} differs: {} vs {}{note}",
            a.display(),
            b.display()
        );
    }
}

/// Whether two files hold the same bytes, read in chunks: reading them
/// whole would raise this process's RSS, which every later child inherits
/// as its starting high-water mark (wait4's ru_maxrss counts from fork).
fn same_bytes(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (mut a, mut b) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = a.read(&mut x).unwrap();
        let mut m = 0;
        while m < n {
            let got = b.read(&mut y[m..n]).unwrap();
            if got == 0 {
                return false;
            }
            m += got;
        }
        if n == 0 {
            return b.read(&mut y).unwrap() == 0;
        }
        if x[..n] != y[..n] {
            return false;
        }
    }
}

/// Links the day folders `days` of every account and region of the corpus
/// into `trail`, in the same layout.
fn link_days(corpus: &Path, trail: &Path, days: std::ops::RangeInclusive<u32>) {
    for file in walk(corpus) {
        let relative = file.strip_prefix(corpus).unwrap();
        let day: u32 = relative
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|d| d.to_str())
            .and_then(|d| d.parse().ok())
            .unwrap();
        if days.contains(&day) {
            let link = trail.join(relative);
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            if !link.exists() {
                std::os::unix::fs::symlink(&file, &link).unwrap();
            }
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
