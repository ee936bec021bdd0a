//! Progress reports from long operations to whoever shows them (a bar on a
//! terminal, plain lines in CI, nothing with `--quiet`). The library only
//! reports; the command line decides how.

use std::sync::Arc;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A step of a longer job has started.
    Step(&'a str),
    /// Inputs read so far, of all.
    Files { done: usize, total: usize },
}

/// A shareable receiver of progress events.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(Event<'_>) + Send + Sync>);

impl Progress {
    pub fn report(&self, event: Event<'_>) {
        (self.0)(event)
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}
