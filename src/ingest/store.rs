//! Inputs in object stores: `s3://bucket/prefix`, `gs://bucket/prefix`,
//! `az://container/prefix` (and `abfs[s]://`), through the `object_store`
//! crate, the one polars and DataFusion use (polars already depends on the
//! same release): one client per cloud, retries with backoff, and each
//! cloud's own credential chain (environment, web identity, instance or
//! workload metadata), never a secret in the config or on the command line.
//!
//! Listing is pruned by the window: under any prefix, a folder that is a
//! year, a month or a day (`2026/11/03/` as CloudTrail and Cloud Logging
//! exports write them, `y=2026/m=11/d=03/` as Azure's diagnostic settings
//! do) is listed only if that period meets `since..until`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::NaiveDate;
use object_store::path::Path as StorePath;
use object_store::{BackoffConfig, ObjectStore, ObjectStoreExt, RetryConfig};

mod gcs_json;

/// One object to read, as listed.
#[derive(Debug, Clone)]
pub struct StoreObject {
    pub store: Arc<dyn ObjectStore>,
    pub location: StorePath,
    /// `s3://bucket/key`: the name in raw references and rejects.
    pub url: String,
    pub size: u64,
    pub e_tag: Option<String>,
    pub version: Option<String>,
    /// Cloud Storage objects are read through its JSON API (see `gcs_json`).
    gcs: Option<Arc<gcs_json::Lister>>,
}

impl PartialEq for StoreObject {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url && self.e_tag == other.e_tag && self.version == other.version
    }
}

impl Eq for StoreObject {}

/// What a listing found: the objects inside the window, and how many
/// date folders the window spared.
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<StoreObject>,
    /// Date folders skipped as outside the window.
    pub pruned: usize,
}

pub fn is_store_url(input: &str) -> bool {
    ["s3://", "gs://", "az://", "abfs://", "abfss://"]
        .iter()
        .any(|scheme| input.starts_with(scheme))
}

/// One runtime for every object-store call: the crate is async; ingest is
/// not, and calls in from its worker threads.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("proofpack-store")
            .enable_all()
            .build()
            .expect("the object-store runtime starts")
    })
}

/// Runs an object-store call from a synchronous caller (ingest's threads).
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

/// The store behind a URL, the prefix inside it, and its root URL: for
/// callers that keep files there (a state folder on S3).
pub(crate) fn open_prefix(
    input: &str,
) -> Result<(Arc<dyn ObjectStore>, StorePath, String), String> {
    open(input)
}

/// A few quick retries: a throttled or failing object is retried, then
/// rejected with its key, without holding a scheduled run for minutes.
fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
    }
}

/// The store behind a URL, and the prefix inside it.
fn open(input: &str) -> Result<(Arc<dyn ObjectStore>, StorePath, String), String> {
    let url = url::Url::parse(input).map_err(|e| format!("{input}: not a URL: {e}"))?;
    let bucket = url.host_str().unwrap_or_default();
    if bucket.is_empty() {
        return Err(format!("{input}: no bucket or container after the scheme"));
    }
    let root = format!("{}://{bucket}", url.scheme());
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" => {
            let mut builder = object_store::aws::AmazonS3Builder::from_env()
                .with_url(input)
                .with_retry(retry());
            // The AWS chain's second link: the shared credentials file's
            // profile, when the environment has no keys of its own.
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                if let Some(profile) = aws_profile()? {
                    builder = builder
                        .with_access_key_id(profile.key_id)
                        .with_secret_access_key(profile.secret);
                    if let Some(token) = profile.token {
                        builder = builder.with_token(token);
                    }
                    if let Some(region) = profile.region.filter(|_| {
                        std::env::var_os("AWS_REGION").is_none()
                            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
                    }) {
                        builder = builder.with_region(region);
                    }
                }
            }
            Arc::new(builder.build().map_err(|e| format!("{root}: {e}"))?)
        }
        "gs" => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(input)
                .with_retry(retry())
                .build()
                .map_err(|e| format!("{root}: {e}"))?,
        ),
        _ => Arc::new(
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(input)
                .with_retry(retry())
                .build()
                .map_err(|e| format!("{root}: {e}"))?,
        ),
    };
    let prefix = StorePath::from(url.path().trim_matches('/'));
    Ok((store, prefix, root))
}

/// Keys from an AWS shared credentials file.
#[derive(Debug, PartialEq)]
struct AwsProfile {
    key_id: String,
    secret: String,
    token: Option<String>,
    region: Option<String>,
}

/// The profile named by `AWS_PROFILE` (else `default`) in
/// `AWS_SHARED_CREDENTIALS_FILE` (else `~/.aws/credentials`), with its
/// region from `AWS_CONFIG_FILE` (else `~/.aws/config`). `None` when there
/// is no such file or profile; an error when the profile holds no static
/// keys (SSO and `credential_process` profiles are not read).
fn aws_profile() -> Result<Option<AwsProfile>, String> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let file = |var: &str, name: &str| {
        std::env::var_os(var)
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let name = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let Some(credentials) = file("AWS_SHARED_CREDENTIALS_FILE", "credentials") else {
        return Ok(None);
    };
    let Ok(text) = std::fs::read_to_string(&credentials) else {
        return Ok(None);
    };
    let Some(section) = ini_section(&text, &name) else {
        return Ok(None);
    };
    let get = |key: &str| {
        section
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let (Some(key_id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key"))
    else {
        return Err(format!(
            "{}: profile {name} has no aws_access_key_id and aws_secret_access_key \
             (SSO and credential_process profiles are not read: export the credentials, \
             e.g. `aws configure export-credentials --format env`)",
            credentials.display()
        ));
    };
    let config_section = if name == "default" {
        name.clone()
    } else {
        format!("profile {name}")
    };
    let region = file("AWS_CONFIG_FILE", "config")
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| ini_section(&text, &config_section))
        .and_then(|pairs| {
            pairs
                .into_iter()
                .find(|(k, _)| k == "region")
                .map(|(_, v)| v)
        });
    Ok(Some(AwsProfile {
        key_id,
        secret,
        token: get("aws_session_token"),
        region,
    }))
}

/// The `key = value` pairs of section `[name]` of an INI text.
fn ini_section(text: &str, name: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if pairs.is_some() {
                break;
            }
            if header.trim() == name {
                pairs = Some(Vec::new());
            }
            continue;
        }
        if let (Some(list), Some((key, value))) = (pairs.as_mut(), line.split_once('=')) {
            list.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    pairs
}

/// Lists the objects under `input` that can hold records of the window.
/// An unreachable store, refused credentials, or a prefix with nothing
/// under it is an error naming the input.
pub fn list(input: &str, since: Option<i64>, until: Option<i64>) -> Result<Listing, String> {
    let (store, prefix, root) = open(input)?;
    let gcs = if input.starts_with("gs://") {
        Some(Arc::new(gcs_json::Lister::open(input)?))
    } else {
        None
    };
    let window = Window::new(since, until);
    runtime().block_on(async move {
        let mut listing = Listing::default();
        let mut queue = vec![(prefix.clone(), DateParts::default())];
        while let Some((folder, date)) = queue.pop() {
            let at = (!folder.as_ref().is_empty()).then_some(&folder);
            let found = match &gcs {
                Some(lister) => lister.list_with_delimiter(at).await,
                None => store
                    .list_with_delimiter(at)
                    .await
                    .map_err(|e| e.to_string()),
            }
            .map_err(|e| format!("{input}: cannot list {root}/{folder}: {e}"))?;
            for meta in found.objects {
                listing.objects.push(StoreObject {
                    store: Arc::clone(&store),
                    url: format!("{root}/{}", meta.location),
                    location: meta.location,
                    size: meta.size,
                    e_tag: meta.e_tag,
                    version: meta.version,
                    gcs: gcs.clone(),
                });
            }
            // Reversed: the queue is a stack, and folders are read in name order.
            for child in found.common_prefixes.into_iter().rev() {
                let name = child.filename().unwrap_or_default().to_string();
                match date.descend(&name) {
                    Some(next) if window.meets(&next) => queue.push((child, next)),
                    Some(_) => listing.pruned += 1,
                    None => queue.push((child, date)),
                }
            }
        }
        if listing.objects.is_empty() && listing.pruned == 0 {
            return Err(format!(
                "{input}: no objects under it (check the bucket, the prefix and the credentials' access)"
            ));
        }
        listing.objects.sort_by(|a, b| a.url.cmp(&b.url));
        Ok(listing)
    })
}

/// Reads one object whole, if it is within `max_bytes`.
pub fn fetch(object: &StoreObject, max_bytes: u64) -> Result<Vec<u8>, String> {
    if let Some(gcs) = &object.gcs {
        let gcs = Arc::clone(gcs);
        let location = object.location.clone();
        let generation = object.version.clone();
        return runtime().block_on(async move {
            let bytes = gcs.fetch(&location, generation.as_deref()).await?;
            if bytes.len() as u64 > max_bytes {
                return Err(format!("more than {max_bytes} bytes as read"));
            }
            Ok(bytes)
        });
    }
    let store = Arc::clone(&object.store);
    let location = object.location.clone();
    runtime().block_on(async move {
        let got = store.get(&location).await.map_err(|e| e.to_string())?;
        let bytes = got.bytes().await.map_err(|e| e.to_string())?;
        if bytes.len() as u64 > max_bytes {
            return Err(format!("more than {max_bytes} bytes as read"));
        }
        Ok(bytes.to_vec())
    })
}

/// The date a folder path has named so far: year, then month, then day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct DateParts {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
}

impl DateParts {
    /// The date after entering folder `name`, if `name` is the next part
    /// of a date (`2026`, `11`, `03`, or `y=2026`, `month=11`, `d=03`).
    fn descend(self, name: &str) -> Option<DateParts> {
        let value = |keys: &[&str]| -> Option<&str> {
            match name.split_once('=') {
                Some((key, value)) if keys.contains(&key) => Some(value),
                Some(_) => None,
                None => Some(name),
            }
        };
        // A whole day in one folder: Security Lake's `eventDay=20261103`,
        // Hive's `date=2026-11-03` / `dt=2026-11-03` (proofpack's own
        // dataset among them).
        if self.year.is_none() {
            if let Some(day) = name.split_once('=').and_then(|(key, value)| match key {
                "eventDay" => NaiveDate::parse_from_str(value, "%Y%m%d").ok(),
                "date" | "dt" | "day" => NaiveDate::parse_from_str(value, "%Y-%m-%d").ok(),
                _ => None,
            }) {
                use chrono::Datelike;
                return Some(DateParts {
                    year: Some(day.year()),
                    month: Some(day.month()),
                    day: Some(day.day()),
                });
            }
        }
        match (self.year, self.month, self.day) {
            (None, _, _) => {
                let text = value(&["y", "year"])?;
                let year: i32 = (text.len() == 4).then(|| text.parse().ok())??;
                (1970..=2200).contains(&year).then_some(DateParts {
                    year: Some(year),
                    ..self
                })
            }
            (Some(_), None, _) => {
                let text = value(&["m", "month"])?;
                let month: u32 = (text.len() == 2).then(|| text.parse().ok())??;
                (1..=12).contains(&month).then_some(DateParts {
                    month: Some(month),
                    ..self
                })
            }
            (Some(_), Some(_), None) => {
                let text = value(&["d", "day"])?;
                let day: u32 = (text.len() == 2).then(|| text.parse().ok())??;
                (1..=31).contains(&day).then_some(DateParts {
                    day: Some(day),
                    ..self
                })
            }
            _ => None,
        }
    }

    /// The UTC days this folder covers, as [first, last].
    fn span(&self) -> Option<(NaiveDate, NaiveDate)> {
        let year = self.year?;
        let (first_month, last_month) = match self.month {
            Some(m) => (m, m),
            None => (1, 12),
        };
        let first = NaiveDate::from_ymd_opt(year, first_month, self.day.unwrap_or(1))?;
        let last = match self.day {
            Some(d) => NaiveDate::from_ymd_opt(year, last_month, d)?,
            None => {
                let next = if last_month == 12 {
                    NaiveDate::from_ymd_opt(year + 1, 1, 1)?
                } else {
                    NaiveDate::from_ymd_opt(year, last_month + 1, 1)?
                };
                next.pred_opt()?
            }
        };
        Some((first, last))
    }
}

/// The window as whole UTC days: `since..until` in µs, half open.
struct Window {
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
}

impl Window {
    fn new(since: Option<i64>, until: Option<i64>) -> Self {
        let day = |us: i64| chrono::DateTime::from_timestamp_micros(us).map(|t| t.date_naive());
        Window {
            first: since.and_then(day),
            // `until` is exclusive: an event at 00:00 of a day is not in it.
            last: until.and_then(|u| day(u - 1)),
        }
    }

    /// Whether a date folder can hold events of the window.
    fn meets(&self, date: &DateParts) -> bool {
        let Some((first, last)) = date.span() else {
            return true;
        };
        self.first.is_none_or(|f| last >= f) && self.last.is_none_or(|l| first <= l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    /// The day a date folder names.
    fn describe(date: &DateParts) -> String {
        match date.span() {
            Some((first, last)) if first == last => first.to_string(),
            Some((first, last)) => format!("{first}..{}", last.day()),
            None => "no date".into(),
        }
    }

    fn at(date: &str) -> i64 {
        crate::time::parse_time_text(date).unwrap()
    }

    #[test]
    fn ini_sections_are_read_as_the_aws_cli_writes_them() {
        let text = "# keys\n[default]\naws_access_key_id = AKIAONE\naws_secret_access_key=one\n\n[ci]\n; note\naws_access_key_id = AKIATWO\naws_secret_access_key = two\naws_session_token = tok\n";
        let ci = ini_section(text, "ci").unwrap();
        assert_eq!(ci.len(), 3);
        assert_eq!(ci[2], ("aws_session_token".to_string(), "tok".to_string()));
        assert_eq!(ini_section(text, "default").unwrap()[1].1, "one");
        assert!(ini_section(text, "missing").is_none());
    }

    #[test]
    fn date_folders_are_read_as_cloudtrail_gcs_and_azure_write_them() {
        let start = DateParts::default();
        let ct = start
            .descend("2026")
            .unwrap()
            .descend("11")
            .unwrap()
            .descend("03")
            .unwrap();
        let az = start
            .descend("y=2026")
            .unwrap()
            .descend("m=11")
            .unwrap()
            .descend("d=03")
            .unwrap();
        assert_eq!(ct, az);
        // Security Lake and Hive name the day in one folder.
        assert_eq!(start.descend("eventDay=20261103"), Some(ct));
        assert_eq!(start.descend("date=2026-11-03"), Some(ct));
        assert!(start.descend("eventDay=2026").is_none());
        assert!(start.descend("accountId=111122223333").is_none());
        assert!(start.descend("region=us-east-1").is_none());
        assert_eq!(describe(&ct), "2026-11-03");
        assert!(start.descend("AWSLogs").is_none());
        assert!(start.descend("111122223333").is_none());
        assert!(start.descend("us-east-1").is_none());
        // After the day, an Azure hour or minute folder is no date part.
        assert!(ct.descend("h=00").is_none());
        assert!(start.descend("2026").unwrap().descend("13").is_none());
    }

    #[test]
    fn the_window_prunes_whole_years_months_and_days() {
        let w = Window::new(
            Some(at("2026-11-02T00:00:00Z")),
            Some(at("2026-11-04T00:00:00Z")),
        );
        let day = |y, m, d| DateParts {
            year: Some(y),
            month: Some(m),
            day: Some(d),
        };
        assert!(!w.meets(&day(2026, 11, 1)));
        assert!(w.meets(&day(2026, 11, 2)));
        assert!(w.meets(&day(2026, 11, 3)));
        assert!(!w.meets(&day(2026, 11, 4)), "until is exclusive");
        let month = |y, m| DateParts {
            year: Some(y),
            month: Some(m),
            day: None,
        };
        assert!(w.meets(&month(2026, 11)));
        assert!(!w.meets(&month(2026, 10)));
        assert!(!w.meets(&DateParts {
            year: Some(2025),
            ..DateParts::default()
        }));
        assert!(Window::new(None, None).meets(&day(1999, 1, 1)));
    }
}
