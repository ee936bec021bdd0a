//! How progress reaches the person or the CI log: a bar on an interactive
//! terminal, plain lines when stderr is not a terminal or `CI` is set,
//! nothing with `--quiet`.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use proofpack::progress::{Event, Progress};

pub struct Ui {
    pub quiet: bool,
    bar: Option<ProgressBar>,
}

impl Ui {
    pub fn new(quiet: bool, verbose: u8) -> (Ui, Option<Progress>) {
        if quiet {
            return (Ui { quiet, bar: None }, None);
        }
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        if interactive {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {bar:30} {pos}/{len}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            let shown = bar.clone();
            let progress = Progress(Arc::new(move |event| match event {
                Event::Step(step) => shown.set_message(step.to_string()),
                Event::Files { done, total } => {
                    shown.set_length(total as u64);
                    shown.set_position(done as u64);
                }
            }));
            return (
                Ui {
                    quiet,
                    bar: Some(bar),
                },
                Some(progress),
            );
        }
        // Plain lines: steps always; inputs every tenth of the way (or each
        // one with -v).
        let progress = Progress(Arc::new(move |event| match event {
            Event::Step(step) => eprintln!("proofpack: {step}"),
            Event::Files { done, total } => {
                let tenth = (total / 10).max(1);
                if verbose > 0 || done == total || done % tenth == 0 {
                    eprintln!("proofpack: read {done} of {total} input(s)");
                }
            }
        }));
        (Ui { quiet, bar: None }, Some(progress))
    }

    /// Clears the bar before the results are printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
