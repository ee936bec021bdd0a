//! Shared by the benchmarks: timing a child process with its peak RSS, the
//! release build, and a Python virtual environment for the baselines.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Runs a command; returns wall seconds, peak RSS in bytes, success.
// The child is reaped by wait4 (which also reports its peak RSS), not by
// Child::wait, which clippy cannot see.
#[allow(clippy::zombie_processes)]
pub fn measure(cmd: &mut Command) -> (f64, u64, bool) {
    let start = Instant::now();
    let child = cmd.spawn().expect("benchmark command starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, and wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(waited, pid, "wait4 failed");
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    // Linux reports ru_maxrss in KiB.
    (secs, usage.ru_maxrss as u64 * 1024, ok)
}

/// Builds the release binary and returns its path.
pub fn build_release(root: &Path) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--bin", "proofpack"])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
    root.join("target/release/proofpack")
}

/// A venv in target/ with `packages` from PyPI; returns its python.
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
