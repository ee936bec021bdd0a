//! Shared by the benchmarks: timing a child process with its peak RSS, the
//! release build, and a Python virtual environment for the baselines.

// Only the ingest and scale benchmarks generate CloudTrail.
#[allow(dead_code)]
pub mod cloudtrail;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Runs a command; returns wall seconds, peak RSS in bytes, success.
// Every bench compiles this module; the validate bench needs exit codes.
#[allow(dead_code)]
pub fn measure(cmd: &mut Command) -> (f64, u64, bool) {
    let (secs, rss, code, _) = measure_exit(cmd);
    (secs, rss, code == Some(0))
}

/// Runs a command; returns wall seconds, peak RSS in bytes, its exit code
/// (`None` when a signal ended it) and the CPU seconds it used (user +
/// system, all threads).
// The child is reaped by wait4 (which also reports its peak RSS), not by
// Child::wait, which clippy cannot see.
#[allow(clippy::zombie_processes)]
pub fn measure_exit(cmd: &mut Command) -> (f64, u64, Option<i32>, f64) {
    let start = Instant::now();
    let child = cmd.spawn().expect("benchmark command starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, and wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(waited, pid, "wait4 failed");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    // Linux reports ru_maxrss in KiB.
    (secs, usage.ru_maxrss as u64 * 1024, code, cpu)
}

/// Builds the release binary and returns its path. The commands the
/// benchmarks start inherit gitleaks' pinned rules (the secret gate needs
/// them) from ../shared unless PROOFPACK_SECRET_RULES names a copy.
pub fn build_release(root: &Path) -> PathBuf {
    if std::env::var_os("PROOFPACK_SECRET_RULES").is_none() {
        std::env::set_var(
            "PROOFPACK_SECRET_RULES",
            root.join("../shared/secrets/gitleaks.toml"),
        );
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--bin", "proofpack"])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
    root.join("target/release/proofpack")
}

/// A venv in target/ with `packages` from PyPI; returns its python.
// The scale benchmark has no baseline in Python.
#[allow(dead_code)]
pub fn python_with(root: &Path, packages: &[&str]) -> PathBuf {
    let venv = root.join("target/bench-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .unwrap()
            .success();
        assert!(ok, "python3 -m venv failed");
    }
    let ok = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet"])
        .args(packages)
        .status()
        .unwrap()
        .success();
    assert!(ok, "pip install {packages:?} failed");
    python
}

/// The corpus size in MB: PROOFPACK_BENCH_MB, else 1,100.
#[allow(dead_code)]
pub fn corpus_mb() -> u64 {
    std::env::var("PROOFPACK_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1100)
}
