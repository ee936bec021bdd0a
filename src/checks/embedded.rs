//! Embedded and industrial identities: devices and controllers that cannot
//! refresh tokens or emit rich telemetry, so hold a static credential, and
//! rely on compensating controls instead. Declared in `proofpack.toml`:
//!
//! ```toml
//! [[embedded]]
//! subject = "arn:aws:iam::111122223333:user/plc-*"   # `*` matches any run
//! reason = "PLC gateways on the plant network cannot refresh tokens"
//! source_networks = ["10.20.0.0/16"]      # used only from these networks
//! actions = ["s3:PutObject"]              # only these actions (`*` allowed)
//! resources = ["arn:aws:s3:::telemetry/*"] # only on these resources
//! mtls = true                             # only over mutual TLS
//! max_events_per_hour = 120               # within this rate
//! attested = ["credential held in the gateway's TPM"]
//! ```
//!
//! Each declared control the evidence can show is verified over every
//! access event of the matching principals (read row group by row group, so
//! memory does not grow with the log): held, broken (with the breaking
//! rows), or not shown by the logs. Controls the logs cannot show, and the
//! `attested` list, are reported as provider-attested. A static credential
//! of an embedded identity whose verifiable controls all hold, at least one
//! of them shown by its use in the window, is *compensated*: neither a pass
//! nor a failure, reported with the evidence; one whose controls break
//! stays a failure, with the breaking rows.

use std::net::IpAddr;
use std::path::Path;

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

use super::outcome::RowRef;
use crate::model::tables::{for_each_row_group, micros_column, ACCESS_EVENTS};

/// The checks whose failing subjects compensating controls can answer: a
/// static credential where an ephemeral one is expected.
pub const COMPENSABLE_CHECKS: [&str; 3] = [
    "ephemeral-credentials",
    "static-credential-rotation",
    "credential-expiry",
];

/// Breaking rows kept per control (the count is kept whole).
const MAX_ROWS: usize = 20;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// A principal or credential id; `*` matches any run of characters.
    pub subject: String,
    /// Why the identity cannot use short-lived credentials.
    pub reason: String,
    #[serde(default)]
    pub source_networks: Vec<String>,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub mtls: bool,
    pub max_events_per_hour: Option<u64>,
    /// Controls the provider attests and no log can show.
    #[serde(default)]
    pub attested: Vec<String>,
}

/// A declaration ready to match: its patterns and networks parsed.
struct Compiled<'d> {
    declaration: &'d Declaration,
    subject: GlobMatcher,
    networks: Vec<(IpAddr, u8)>,
    actions: Vec<GlobMatcher>,
    resources: Vec<GlobMatcher>,
}

fn glob(pattern: &str) -> Result<GlobMatcher, String> {
    Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("{pattern:?}: {e}"))
}

/// `10.20.0.0/16`, `2001:db8::/32`, or one address.
pub fn parse_network(text: &str) -> Result<(IpAddr, u8), String> {
    let (addr, bits) = match text.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    };
    let ip: IpAddr = addr
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an address or a CIDR network"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(b) => b
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|b| *b <= max)
            .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {max}"))?,
        None => max,
    };
    Ok((ip, bits))
}

fn in_network(ip: IpAddr, (net, bits): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl Declaration {
    /// Every pattern and network parsed, or the first that is not.
    pub fn check(&self) -> Result<(), String> {
        self.compile().map(|_| ())
    }

    fn compile(&self) -> Result<Compiled<'_>, String> {
        if self.reason.trim().is_empty() {
            return Err("reason is empty: say why the identity cannot refresh tokens".into());
        }
        Ok(Compiled {
            declaration: self,
            subject: glob(&self.subject)?,
            networks: self
                .source_networks
                .iter()
                .map(|n| parse_network(n))
                .collect::<Result<_, _>>()?,
            actions: self
                .actions
                .iter()
                .map(|a| glob(a))
                .collect::<Result<_, _>>()?,
            resources: self
                .resources
                .iter()
                .map(|r| glob(r))
                .collect::<Result<_, _>>()?,
        })
    }

    pub fn covers(&self, subject: &str) -> bool {
        glob(&self.subject).is_ok_and(|g| g.is_match(subject))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlState {
    /// Every event of the identity shows it.
    Held,
    /// Some events break it: they are the evidence.
    Broken,
    /// The logs do not record what would show it; the provider attests it.
    Attested,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlResult {
    pub control: String,
    pub state: ControlState,
    pub detail: String,
    /// Breaking rows (for a broken control), else the first rows showing
    /// it held.
    pub rows: Vec<RowRef>,
    pub rows_total: usize,
}

/// One declaration verified over one principal's events in the window (or,
/// with no principal, a declaration no event matched).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub declaration: Declaration,
    pub principal: Option<String>,
    pub events: u64,
    pub controls: Vec<ControlResult>,
}

impl Verification {
    /// Whether this verification answers for `subject`: its principal, a
    /// credential of it (`principal#slot`), or, for a declaration no event
    /// matched, any subject the declaration covers.
    pub fn answers(&self, subject: &str) -> bool {
        match &self.principal {
            Some(p) => {
                subject == p
                    || subject
                        .strip_prefix(p.as_str())
                        .is_some_and(|rest| rest.starts_with('#'))
            }
            None => self.declaration.covers(subject),
        }
    }

    /// No control broken, and at least one shown held by use.
    pub fn compensates(&self) -> bool {
        self.events > 0
            && self
                .controls
                .iter()
                .all(|c| c.state != ControlState::Broken)
            && self.controls.iter().any(|c| c.state == ControlState::Held)
    }

    pub fn broken(&self) -> impl Iterator<Item = &ControlResult> {
        self.controls
            .iter()
            .filter(|c| c.state == ControlState::Broken)
    }

    /// One line per control, for reasons and OSCAL statements.
    pub fn describe(&self) -> String {
        self.controls
            .iter()
            .map(|c| {
                let state = match c.state {
                    ControlState::Held => "held",
                    ControlState::Broken => "broken",
                    ControlState::Attested => "provider-attested",
                };
                format!("{} {state}: {}", c.control, c.detail)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a running tally keeps for one control.
#[derive(Default)]
struct Tally {
    shown: u64,
    broken: u64,
    held_rows: Vec<RowRef>,
    broken_rows: Vec<RowRef>,
}

impl Tally {
    fn see(&mut self, row: RowRef, holds: Option<bool>) {
        match holds {
            Some(true) => {
                self.shown += 1;
                if self.held_rows.len() < MAX_ROWS {
                    self.held_rows.push(row);
                }
            }
            Some(false) => {
                self.shown += 1;
                self.broken += 1;
                if self.broken_rows.len() < MAX_ROWS {
                    self.broken_rows.push(row);
                }
            }
            None => {}
        }
    }

    fn result(self, control: &str, what: &str, events: u64) -> ControlResult {
        if self.broken > 0 {
            ControlResult {
                control: control.into(),
                state: ControlState::Broken,
                detail: format!("{} of {events} event(s) {what} not", self.broken),
                rows: self.broken_rows,
                rows_total: self.broken as usize,
            }
        } else if self.shown > 0 {
            ControlResult {
                control: control.into(),
                state: ControlState::Held,
                detail: format!("all {} event(s) that record it {what}", self.shown),
                rows: self.held_rows,
                rows_total: self.shown as usize,
            }
        } else {
            ControlResult {
                control: control.into(),
                state: ControlState::Attested,
                detail: "the logs do not record it; the provider attests it".into(),
                rows: Vec::new(),
                rows_total: 0,
            }
        }
    }
}

/// Authentication methods that are a client certificate (mutual TLS).
fn is_mtls(method: &str) -> Option<bool> {
    let m = method.to_ascii_lowercase();
    if m.is_empty() || m == "unknown" {
        return None;
    }
    Some(
        m.contains("mtls")
            || m.contains("x509")
            || m.contains("certificate")
            || m.contains("client-cert"),
    )
}

/// One principal's tallies under one declaration.
#[derive(Default)]
struct Running {
    events: u64,
    networks: Tally,
    actions: Tally,
    resources: Tally,
    mtls: Tally,
    hours: std::collections::BTreeMap<i64, (u64, Vec<RowRef>)>,
}

/// Verifies every declaration over `dir`'s access events, per principal.
pub fn verify(dir: &Path, declarations: &[Declaration]) -> Result<Vec<Verification>, String> {
    if declarations.is_empty() {
        return Ok(Vec::new());
    }
    let compiled: Vec<Compiled> = declarations
        .iter()
        .map(Declaration::compile)
        .collect::<Result<_, String>>()?;
    // Per declaration, per principal, in principal order.
    let mut running: Vec<std::collections::BTreeMap<String, Running>> =
        compiled.iter().map(|_| Default::default()).collect();
    let path = dir.join(format!("{ACCESS_EVENTS}.parquet"));
    let columns = [
        "principal_id",
        "time",
        "action",
        "resource",
        "source_address",
        "auth_method",
    ];
    for_each_row_group(&path, &columns, |frame, offset| {
        let principal = frame.column("principal_id")?.str()?;
        let action = frame.column("action")?.str()?;
        let resource = frame.column("resource")?.str()?;
        let address = frame.column("source_address")?.str()?;
        let method = frame.column("auth_method")?.str()?;
        let times = micros_column(frame, "time")?;
        for i in 0..frame.height() {
            let Some(who) = principal.get(i) else {
                continue;
            };
            for (c, by_principal) in compiled.iter().zip(running.iter_mut()) {
                if !c.subject.is_match(who) {
                    continue;
                }
                let r = by_principal.entry(who.to_string()).or_default();
                let row = RowRef {
                    table: ACCESS_EVENTS,
                    row: offset + i,
                };
                r.events += 1;
                if !c.networks.is_empty() {
                    let ip = address.get(i).and_then(|a| a.trim().parse::<IpAddr>().ok());
                    r.networks.see(
                        row,
                        ip.map(|ip| c.networks.iter().any(|n| in_network(ip, *n))),
                    );
                }
                if !c.actions.is_empty() {
                    let a = action.get(i).unwrap_or("");
                    r.actions
                        .see(row, Some(c.actions.iter().any(|g| g.is_match(a))));
                }
                if !c.resources.is_empty() {
                    let shown = resource.get(i).filter(|s| !s.is_empty());
                    r.resources.see(
                        row,
                        shown.map(|s| c.resources.iter().any(|g| g.is_match(s))),
                    );
                }
                if c.declaration.mtls {
                    r.mtls.see(row, method.get(i).and_then(is_mtls));
                }
                if let Some(t) = times.get(i).copied().flatten() {
                    let hour = r
                        .hours
                        .entry(t.div_euclid(super::outcome::HOUR_US))
                        .or_default();
                    hour.0 += 1;
                    if hour.1.len() < MAX_ROWS {
                        hour.1.push(row);
                    }
                }
            }
        }
        Ok(())
    })
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (c, by_principal) in compiled.iter().zip(running) {
        if by_principal.is_empty() {
            out.push(finish(c.declaration, None, Running::default()));
        }
        for (principal, r) in by_principal {
            out.push(finish(c.declaration, Some(principal), r));
        }
    }
    Ok(out)
}

fn finish(d: &Declaration, principal: Option<String>, r: Running) -> Verification {
    let events = r.events;
    let mut controls = Vec::new();
    if !d.source_networks.is_empty() {
        controls.push(r.networks.result(
            "source-networks",
            &format!("came from {}", d.source_networks.join(", ")),
            events,
        ));
    }
    if !d.actions.is_empty() {
        controls.push(r.actions.result(
            "actions",
            &format!("did only {}", d.actions.join(", ")),
            events,
        ));
    }
    if !d.resources.is_empty() {
        controls.push(r.resources.result(
            "resources",
            &format!("touched only {}", d.resources.join(", ")),
            events,
        ));
    }
    if d.mtls {
        controls.push(r.mtls.result(
            "mutual-tls",
            "authenticated with a client certificate",
            events,
        ));
    }
    if let Some(limit) = d.max_events_per_hour {
        let over: Vec<(&i64, &(u64, Vec<RowRef>))> =
            r.hours.iter().filter(|(_, (n, _))| *n > limit).collect();
        let peak = r.hours.values().map(|(n, _)| *n).max().unwrap_or(0);
        controls.push(if !over.is_empty() {
            ControlResult {
                control: "rate".into(),
                state: ControlState::Broken,
                detail: format!(
                    "{} hour(s) above {limit} event(s) per hour (peak {peak})",
                    over.len()
                ),
                rows: over
                    .iter()
                    .flat_map(|(_, (_, rows))| rows.iter().copied())
                    .take(MAX_ROWS)
                    .collect(),
                rows_total: over.iter().map(|(_, (n, _))| *n as usize).sum(),
            }
        } else if events > 0 {
            ControlResult {
                control: "rate".into(),
                state: ControlState::Held,
                detail: format!("peak {peak} event(s) in an hour, within {limit}"),
                rows: Vec::new(),
                rows_total: events as usize,
            }
        } else {
            ControlResult {
                control: "rate".into(),
                state: ControlState::Attested,
                detail: "no use in the window".into(),
                rows: Vec::new(),
                rows_total: 0,
            }
        });
    }
    for attested in &d.attested {
        controls.push(ControlResult {
            control: attested.clone(),
            state: ControlState::Attested,
            detail: "attested by the provider; no log shows it".into(),
            rows: Vec::new(),
            rows_total: 0,
        });
    }
    Verification {
        declaration: d.clone(),
        principal,
        events,
        controls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_match_by_prefix_in_both_families() {
        let net = parse_network("10.20.0.0/16").unwrap();
        assert!(in_network("10.20.3.4".parse().unwrap(), net));
        assert!(!in_network("10.21.0.1".parse().unwrap(), net));
        assert!(!in_network("::1".parse().unwrap(), net));
        let v6 = parse_network("2001:db8::/32").unwrap();
        assert!(in_network("2001:db8:1::5".parse().unwrap(), v6));
        assert!(in_network(
            "0.0.0.0".parse().unwrap(),
            parse_network("0.0.0.0/0").unwrap()
        ));
        assert!(parse_network("10.0.0.0/33").is_err());
        assert!(parse_network("ten").is_err());
        assert_eq!(parse_network("192.0.2.7").unwrap().1, 32);
    }

    #[test]
    fn mtls_is_shown_only_by_a_named_method() {
        assert_eq!(is_mtls("x509"), Some(true));
        assert_eq!(is_mtls("client-certificate"), Some(true));
        assert_eq!(is_mtls("access-key"), Some(false));
        assert_eq!(is_mtls("unknown"), None);
    }

    #[test]
    fn a_declaration_needs_a_reason_and_valid_patterns() {
        let mut d = Declaration {
            subject: "arn:aws:iam::1:user/plc-*".into(),
            reason: "cannot refresh".into(),
            source_networks: vec!["10.0.0.0/8".into()],
            actions: vec![],
            resources: vec![],
            mtls: false,
            max_events_per_hour: None,
            attested: vec![],
        };
        assert!(d.check().is_ok());
        assert!(d.covers("arn:aws:iam::1:user/plc-7#access_key_1"));
        assert!(!d.covers("arn:aws:iam::1:user/ci"));
        d.source_networks = vec!["nope".into()];
        assert!(d.check().is_err());
        d.source_networks.clear();
        d.reason = " ".into();
        assert!(d.check().unwrap_err().contains("reason"));
    }
}
