//! `proofpack generate` and `proofpack verify`.

use std::path::PathBuf;

use proofpack::attest::keys::{self, Algorithm, KeySource, PublicKey};
use proofpack::exit::ExitStatus;
use proofpack::generate::{self, GenerateOptions, SignatureStatus};

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// proofpack.toml: system, window, inputs, output, thresholds, waivers.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Write the package here (overrides output.dir).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Start of the assessment window (overrides window.since).
    #[arg(long, value_name = "TIME", value_parser = crate::parse_instant)]
    since: Option<i64>,
    /// End of the assessment window (overrides window.until; default now).
    #[arg(long, value_name = "TIME", value_parser = crate::parse_instant)]
    until: Option<i64>,
    /// Window length counted back from --until: 30d, 12h, 90m.
    #[arg(long, value_name = "LENGTH", value_parser = parse_window)]
    window: Option<i64>,
    /// OSCAL version of the documents: 1.1.3 (default) or 1.2.1.
    #[arg(long = "oscal-version", value_name = "VERSION")]
    oscal_version: Option<String>,
    /// Pin metadata.last-modified, for byte-identical reruns.
    #[arg(long, value_name = "TIME", value_parser = crate::parse_instant)]
    last_modified: Option<i64>,
    /// NIST's OSCAL schemas (default: $PROOFPACK_SCHEMA_DIR, then the cache).
    #[arg(long, value_name = "DIR")]
    schema_dir: Option<PathBuf>,
    /// FedRAMP's CR26 JSON schemas, to validate the Security Decision Record
    /// (default: $PROOFPACK_FEDRAMP_SCHEMA_DIR).
    #[arg(long, value_name = "DIR")]
    fedramp_schema_dir: Option<PathBuf>,
    #[command(flatten)]
    constraints: crate::ConstraintArgs,
    #[command(flatten)]
    secrets: crate::SecretGateArgs,
    /// Extra frameworks and mappings (see `proofpack checks --help`).
    #[arg(long, value_name = "DIR")]
    mappings: Option<PathBuf>,
    /// Keep this run's metrics in this history folder (overrides the
    /// config's `[history] dir`).
    #[arg(long, value_name = "DIR")]
    history: Option<PathBuf>,
    /// Incremental runs: read only the log objects this state folder has
    /// not seen (overrides the config's `[state] dir`; see `ingest --state`).
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// What aggregates the access events for the checks: proofpack itself
    /// (row group by row group), or the same SQL (sql/event_stats.sql) on
    /// DuckDB or Spark (spark-submit, SPARK_REMOTE, or pyspark).
    #[arg(long, value_enum, default_value = "embedded")]
    engine: proofpack::checks::aggregate::engine::Engine,
    /// What makes the exit status 1 once the package is written: any
    /// not-satisfied finding, a failing high-severity check, or nothing.
    #[arg(long, value_enum, default_value = "never")]
    fail_on: proofpack::checks::run::FailOn,
    /// Also write the check results as JUnit XML here (for CI test reports).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write the check results as SARIF here (for code-scanning views).
    #[arg(long, value_name = "FILE")]
    sarif: Option<PathBuf>,
    /// Sign the package with this private key (PKCS#8 PEM, ECDSA P-256 or
    /// Ed25519): writes attestation.dsse.json. Overrides `[signing]`.
    #[arg(long, value_name = "FILE", conflicts_with = "sign_key_env")]
    sign_key: Option<PathBuf>,
    /// Sign with the PKCS#8 PEM held in this environment variable.
    #[arg(long, value_name = "VAR")]
    sign_key_env: Option<String>,
    /// Read date-times without a zone in every input as UTC (`utc`), or
    /// refuse them (`reject`); overrides the config's `naive_times`.
    #[arg(long, value_enum, value_name = "HOW")]
    naive_times: Option<proofpack::config::NaiveTimes>,
}

fn parse_window(text: &str) -> Result<i64, String> {
    proofpack::config::parse_length(text)
        .ok_or_else(|| format!("`{text}` is not a length: write 30d, 12h or 90m"))
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// A package written by `proofpack generate`.
    #[arg(value_name = "PACKAGE")]
    dir: PathBuf,
    #[arg(long, value_name = "DIR")]
    schema_dir: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// The time freshness is judged at (default: now).
    #[arg(long, value_name = "TIME", value_parser = crate::parse_instant)]
    as_of: Option<i64>,
    /// Also fail (exit 1) when the package's observations have expired.
    #[arg(long)]
    require_fresh: bool,
    /// A trusted public key (SubjectPublicKeyInfo PEM); repeatable. The
    /// package's signature must verify with one of them.
    #[arg(long = "key", value_name = "PUB.pem")]
    keys: Vec<PathBuf>,
    /// Every `*.pem` public key in this folder is trusted.
    #[arg(long, value_name = "DIR")]
    trusted_keys: Option<PathBuf>,
    /// Fail (exit 1) when the package is not signed.
    #[arg(long)]
    require_signature: bool,
    /// Also write the result as SARIF 2.1.0 here (for code-scanning views).
    #[arg(long, value_name = "FILE")]
    sarif: Option<PathBuf>,
    /// gitleaks' pinned rules, to run the secret gate again over the
    /// package (default: $PROOFPACK_SECRET_RULES, then the cache; without
    /// them the secrets are reported as not checked).
    #[arg(long, value_name = "FILE", env = "PROOFPACK_SECRET_RULES")]
    secret_rules: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub enum KeysCommand {
    /// Write a new key pair: signing-key.pem (PKCS#8, mode 0600) and
    /// signing-key.pub.pem (SubjectPublicKeyInfo) into DIR.
    Generate {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// ecdsa-p256 (what Sigstore and cosign use) or ed25519.
        #[arg(long, value_name = "ALGORITHM", default_value = "ecdsa-p256")]
        algorithm: Algorithm,
    },
}

pub fn keys_command(command: KeysCommand) -> anyhow::Result<ExitStatus> {
    match command {
        KeysCommand::Generate { out, algorithm } => {
            let (private, public) = keys::generate(&out, algorithm)?;
            let key = PublicKey::from_file(&public)?;
            println!(
                "private key: {} (keep it secret; mode 0600)",
                private.display()
            );
            println!(
                "public key:  {} (give it to whoever verifies)",
                public.display()
            );
            println!("key id:      {} ({})", key.keyid, algorithm.name());
            Ok(ExitStatus::Success)
        }
    }
}

pub fn generate(args: GenerateArgs, quiet: bool, verbose: u8) -> anyhow::Result<ExitStatus> {
    let (ui, progress) = super::ui::Ui::new(quiet, verbose);
    let allowed_secret_rules = args.secrets.install()?;
    let generated = generate::generate(&GenerateOptions {
        allowed_secret_rules: allowed_secret_rules.clone(),
        config: args.config.clone(),
        out: args.out.clone(),
        since_us: args.since,
        until_us: args.until,
        window_us: args.window,
        oscal_version: args.oscal_version.clone(),
        last_modified_us: args.last_modified,
        schema_dir: args.schema_dir.clone(),
        fedramp_schema_dir: args.fedramp_schema_dir.clone(),
        constraints: args.constraints.options(),
        mappings: args.mappings.clone(),
        history: args.history.clone(),
        state: args.state.clone(),
        sign_key: match (&args.sign_key, &args.sign_key_env) {
            (Some(path), _) => Some(KeySource::File(path.clone())),
            (None, Some(var)) => Some(KeySource::Env(var.clone())),
            (None, None) => None,
        },
        progress,
        engine: args.engine,
        naive_times: args.naive_times,
    });
    ui.finish();
    let generated = generated?;
    let catalogue = proofpack::checks::catalogue::Catalogue::built_in()?;
    // The reports written beside the package pass the same gate.
    let gate = proofpack::secrets::gate::Gate {
        rules: proofpack::secrets::active(),
        seen: &generated.ingest.seen_secrets,
        allowed: &allowed_secret_rules,
        identifiers: Default::default(),
    };
    if let Some(path) = &args.junit {
        let xml = proofpack::checks::render::junit::junit(&generated.report);
        gate.scan_bytes(&path.display().to_string(), xml.as_bytes())?;
        std::fs::write(path, xml)?;
    }
    if let Some(path) = &args.sarif {
        let sarif = proofpack::checks::render::sarif::sarif(&generated.report, &catalogue);
        let bytes = serde_json::to_vec_pretty(&sarif)?;
        gate.scan_bytes(&path.display().to_string(), &bytes)?;
        std::fs::write(path, bytes)?;
    }
    let exit = if generated.report.fails(args.fail_on) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    if ui.quiet {
        return Ok(exit);
    }
    for w in &generated.warnings {
        eprintln!("proofpack: warning: {w}");
    }
    let s = &generated.ingest;
    let c = &generated.report.counts;
    println!(
        "{} input file(s), {} record(s): {} access events, {} inventoried, {} rejected, {} outside the window, {} skipped",
        s.files, s.read, s.normalised, s.inventoried, s.rejected, s.outside_window, s.skipped
    );
    println!(
        "{} check(s): {} pass, {} fail, {} compensated, {} not applicable, {} not evaluated",
        generated.report.results.len(),
        c.get("pass").unwrap_or(&0),
        c.get("fail").unwrap_or(&0),
        c.get("compensated").unwrap_or(&0),
        c.get("not-applicable").unwrap_or(&0),
        c.get("not-evaluated").unwrap_or(&0)
    );
    println!("Security Decision Record: {}", generated.sdr_validation);
    if !generated.missing.is_empty() {
        let shown: Vec<&str> = generated
            .missing
            .iter()
            .take(4)
            .map(String::as_str)
            .collect();
        println!(
            "for the provider to supply ({} item(s), all in manifest.json `missing`): {}{}",
            generated.missing.len(),
            shown.join("; "),
            if generated.missing.len() > shown.len() {
                "; …"
            } else {
                ""
            }
        );
    }
    println!("package written to {}", generated.dir.display());
    // The one line a log reader needs.
    println!(
        "proofpack: {} file(s), {} record(s), {} check(s): {} pass, {} fail; {} → {}",
        s.files,
        s.read,
        generated.report.results.len(),
        c.get("pass").unwrap_or(&0),
        c.get("fail").unwrap_or(&0),
        generated.dir.display(),
        if exit == ExitStatus::Success {
            "ok"
        } else {
            "fails the --fail-on policy"
        }
    );
    Ok(exit)
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitStatus> {
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().timestamp_micros());
    let mut trusted = Vec::new();
    for path in &args.keys {
        trusted.push(PublicKey::from_file(path)?);
    }
    if let Some(dir) = &args.trusted_keys {
        trusted.extend(PublicKey::from_dir(dir)?);
    }
    if args.require_signature && trusted.is_empty() {
        anyhow::bail!("--require-signature needs the signer's public key: pass --key PUB.pem or --trusted-keys DIR");
    }
    // The gate runs again when its rules are at hand; verify does not need
    // them to check hashes and signatures.
    let rules = match proofpack::secrets::locate::load(args.secret_rules.as_deref()) {
        Ok(rules) => Some(proofpack::secrets::install(rules)),
        Err(proofpack::secrets::locate::LocateError::Missing { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let report = generate::verify(
        &args.dir,
        args.schema_dir.as_deref(),
        as_of,
        &trusted,
        rules,
    )?;
    if let Some(path) = &args.sarif {
        let sarif = generate::verify_sarif::sarif(&report);
        std::fs::write(path, serde_json::to_vec_pretty(&sarif)?)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for (label, list) in [
            ("changed", &report.files.changed),
            ("missing", &report.files.missing),
            ("extra", &report.files.extra),
        ] {
            for path in list {
                println!("{label}: {path}");
            }
        }
        let signature = &report.signature;
        println!("signature: {}", signature.summary());
        println!(
            "secrets: {}: {}",
            report.secrets.status, report.secrets.detail
        );
        for f in &report.secrets.findings {
            println!("secret: {}: {}: rule {}", f.file, f.place, f.rule);
        }
        for problem in &signature.problems {
            println!("signature problem: {problem}");
        }
        for (doc, status) in &report.documents {
            println!("{doc}: {status}");
        }
        match (&report.freshness.expires, report.freshness.stale) {
            (Some(e), true) => println!(
                "stale: the observations expired {e} (as of {}); re-run generate",
                report.freshness.as_of
            ),
            (Some(e), false) => println!("fresh until {e}"),
            (None, _) => println!("freshness: no observation carries an expiry"),
        }
        println!(
            "{}: {} file(s) in the manifest, {} changed, {} missing, {} extra; {}",
            report.package,
            report.files.files,
            report.files.changed.len(),
            report.files.missing.len(),
            report.files.extra.len(),
            if report.ok() {
                "verified"
            } else {
                "NOT VERIFIED"
            }
        );
    }
    let stale = args.require_fresh && report.freshness.stale;
    let unsigned = args.require_signature && report.signature.status != SignatureStatus::Verified;
    Ok(if report.ok() && !stale && !unsigned {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
