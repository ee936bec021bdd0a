//! Object-store inputs (issue 16) against a real S3 API on 127.0.0.1:
//! moto's server (`pip install 'moto[server]'`, which `.ci/run` installs),
//! with the real CloudTrail samples uploaded in AWS's layout.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ingest::samples;
use crate::util::*;

/// The window of the pruning tests: two of the four uploaded days.
pub(crate) const TWO_DAYS: [&str; 4] = [
    "--since",
    "2026-11-02T00:00:00Z",
    "--until",
    "2026-11-04T00:00:00Z",
];

/// A moto S3 server on a free local port, stopped when dropped.
pub(crate) struct Moto {
    child: Child,
    pub(crate) endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python that has moto: $PROOFPACK_TEST_PYTHON, else the venv
/// `.ci/run` makes in target/test-venv.
pub(crate) fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PROOFPACK_TEST_PYTHON") {
        return p.into();
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python");
    assert!(
        venv.exists(),
        "the object-store tests need moto's S3 server: run .ci/run, or \
         python3 -m venv target/test-venv && target/test-venv/bin/pip install 'moto[server]'"
    );
    venv
}

impl Moto {
    /// `auth`: refuse every request without credentials moto knows.
    pub(crate) fn start(auth: bool) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(python());
        cmd.args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if auth {
            cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
        }
        let child = cmd.spawn().expect("moto.server starts");
        let endpoint = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, endpoint }
    }

    pub(crate) fn put(&self, path: &str, body: Vec<u8>) {
        let response = reqwest::blocking::Client::new()
            .put(format!("{}/{path}", self.endpoint))
            .body(body)
            .send()
            .unwrap();
        assert!(
            response.status().is_success(),
            "PUT {path}: {}",
            response.status()
        );
    }

    /// Replaces an object: moto refuses an anonymous overwrite, so this one
    /// is signed (boto3, which moto depends on).
    pub(crate) fn replace(&self, bucket: &str, key: &str, body: &[u8]) {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), body).unwrap();
        let script = "import boto3, sys\n\
            s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
                aws_access_key_id='AKIAEXAMPLEEXAMPLE00', aws_secret_access_key='example-secret')\n\
            s3.put_object(Bucket=sys.argv[2], Key=sys.argv[3], Body=open(sys.argv[4], 'rb').read())\n";
        let status = Command::new(python())
            .args(["-c", script, &self.endpoint, bucket, key])
            .arg(file.path())
            .status()
            .unwrap();
        assert!(status.success(), "replacing {bucket}/{key}");
    }

    /// `proofpack` with the AWS environment pointed at this server.
    pub(crate) fn proofpack(&self, cache: &Path) -> Command {
        proofpack_at(&self.endpoint, cache)
    }
}

/// `proofpack` with the AWS environment pointed at an S3 endpoint.
fn proofpack_at(endpoint: &str, cache: &Path) -> Command {
    let mut cmd = proofpack(cache);
    cmd.env("AWS_ENDPOINT", endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
        .env("AWS_SECRET_ACCESS_KEY", "example-secret")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE");
    cmd
}

/// The CloudTrail samples, gzipped, one folder per day of 2026-11-01..04:
/// returns the object keys by day, and each object's SHA-256.
fn upload_trail(moto: &Moto) -> (Vec<Vec<String>>, BTreeMap<String, String>) {
    moto.put("trail", Vec::new());
    let mut hashes = BTreeMap::new();
    let days = (1..=4)
        .map(|day| upload_day(moto, day, &mut hashes))
        .collect();
    (days, hashes)
}

/// One day's objects, as AWS delivers them: each sample file gzipped, its
/// events dated on that day. Returns the keys; adds each object's SHA-256.
pub(crate) fn upload_day(
    moto: &Moto,
    day: u32,
    hashes: &mut BTreeMap<String, String>,
) -> Vec<String> {
    let mut keys = Vec::new();
    for (key, body) in day_objects(day) {
        hashes.insert(format!("s3://trail/{key}"), sha256_hex(&body));
        moto.put(&format!("trail/{key}"), body);
        keys.push(key);
    }
    keys
}

/// One day's CloudTrail objects (key, gzipped body) in AWS's layout: the
/// real sample records, dated on their folder's day as AWS would date them.
pub(crate) fn day_objects(day: u32) -> Vec<(String, Vec<u8>)> {
    let event_time = regex::Regex::new(r#""eventTime"\s*:\s*"[^"]*""#).unwrap();
    days_files()
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let key = format!(
                "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/{day:02}/111122223333_CloudTrail_us-east-1_202611{day:02}T0{i}00Z_{i}.json.gz"
            );
            let text = std::fs::read_to_string(file).unwrap();
            let when = format!(r#""eventTime": "2026-11-{day:02}T0{i}:15:00Z""#);
            let dated = event_time.replace_all(&text, when.as_str());
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(dated.as_bytes()).unwrap();
            (key, gz.finish().unwrap())
        })
        .collect()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn ingest_from(endpoint: &str, input: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = run(proofpack_at(endpoint, cache.path())
        .arg("ingest")
        .arg(input)
        .arg("--out")
        .arg(out.path().join("evidence"))
        .args(extra));
    let summary = std::fs::read(out.path().join("evidence/summary.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    // The raw references of every row and reject, by object URL.
    let tables: String = ["access_events.csv", "rejected.csv"]
        .iter()
        .map(|t| std::fs::read_to_string(out.path().join("evidence").join(t)).unwrap_or_default())
        .collect();
    (
        output.status.code().unwrap_or(-1),
        summary,
        stderr(&output) + &tables,
    )
}

#[test]
fn a_trail_in_s3_is_read_with_the_window_pruning_its_days() {
    let moto = Moto::start(false);
    let (days, hashes) = upload_trail(&moto);
    let local = {
        let (out, _) = crate::ingest::ingest(&days_files(), &[]);
        crate::ingest::summary(out.path())
    };

    // Every day: the same records as the same files read locally, four times.
    let (code, all, text) = ingest_from(&moto.endpoint, "s3://trail/AWSLogs/", &[]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(all["files"], 16, "{all:#}");
    assert_eq!(
        all["read"].as_u64().unwrap(),
        4 * local["read"].as_u64().unwrap(),
        "{all:#}"
    );
    assert_eq!(all["reconciled"], true);

    // A two-day window lists and fetches only those two days' objects.
    let (code, windowed, text) = ingest_from(&moto.endpoint, "s3://trail/AWSLogs/", &TWO_DAYS);
    assert_eq!(code, 0, "{text}");
    assert_eq!(windowed["files"], 8, "{windowed:#}");
    assert_eq!(
        windowed["read"].as_u64().unwrap(),
        2 * local["read"].as_u64().unwrap()
    );
    // Raw references name the objects by their s3:// URL, from the two
    // days only.
    let folder = "s3://trail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/";
    for day in ["02", "03"] {
        assert!(text.contains(&format!("{folder}{day}/")), "{text}");
    }
    for day in ["01", "04"] {
        assert!(!text.contains(&format!("{folder}{day}/")), "{day}: {text}");
    }
    assert!(
        text.contains(&format!("s3://trail/{}", days[1][0])),
        "{text}"
    );

    // Each object read is recorded with its ETag and the SHA-256 of its
    // stored bytes.
    let objects = windowed["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 8);
    for o in objects {
        let url = o["url"].as_str().unwrap();
        assert_eq!(
            o["sha256"].as_str(),
            hashes.get(url).map(String::as_str),
            "{o}"
        );
        assert!(o["e_tag"].as_str().is_some_and(|t| !t.is_empty()), "{o}");
        assert!(
            url.contains("/2026/11/02/") || url.contains("/2026/11/03/"),
            "{url}"
        );
    }
}

/// The local copies of the uploaded files, for comparison.
pub(crate) fn days_files() -> Vec<PathBuf> {
    [
        "cloudtrail/stratus-red-team/aws.credential-access.ec2-get-password-data.json",
        "cloudtrail/stratus-red-team/aws.credential-access.secretsmanager-batch-retrieve-secrets.json",
        "cloudtrail/aws-cloudtrail-processing-library/SerializerTestFile.json",
        "cloudtrail/otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json",
    ]
    .iter()
    .map(|f| samples().join(f))
    .collect()
}

#[test]
fn a_missing_bucket_or_refused_credentials_stop_the_run_naming_the_bucket() {
    let moto = Moto::start(false);
    let (code, _, text) = ingest_from(&moto.endpoint, "s3://no-such-bucket/AWSLogs/", &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("s3://no-such-bucket"), "{text}");
    assert!(!text.contains("panicked"), "{text}");

    moto.put("empty", Vec::new());
    let (code, _, text) = ingest_from(&moto.endpoint, "s3://empty/AWSLogs/", &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("no objects under it"), "{text}");

    let locked = Moto::start(true);
    let (code, _, text) = ingest_from(&locked.endpoint, "s3://trail/AWSLogs/", &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("s3://trail"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn generate_reads_a_trail_from_s3_and_records_each_object_in_the_manifest() {
    let moto = Moto::start(false);
    let (_, hashes) = upload_trail(&moto);
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("proofpack.toml");
    std::fs::write(
        &config,
        "[system]\nname = \"S3\"\ndescription = \"d\"\norganization = \"o\"\nboundary = \"b\"\n\n\
         [window]\nsince = 2026-11-02T00:00:00Z\nuntil = 2026-11-04T00:00:00Z\n\n\
         [inputs]\nlogs = [\"s3://trail/AWSLogs/\"]\n",
    )
    .unwrap();
    let out = tmp.path().join("package");
    let cache = tempfile::tempdir().unwrap();
    let output = run(moto
        .proofpack(cache.path())
        .arg("generate")
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .arg("--schema-dir")
        .arg(schema_dir())
        .arg("--history")
        .arg(tmp.path().join("history")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let manifest = read_json(&out.join("manifest.json"));
    let input = &manifest["inputs"][0];
    assert_eq!(input["path"], "s3://trail/AWSLogs/");
    let objects = input["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 8, "{input:#}");
    for o in objects {
        assert_eq!(
            o["sha256"].as_str(),
            hashes.get(o["url"].as_str().unwrap()).map(String::as_str)
        );
    }
    assert!(
        input["records"]["access_events"].as_u64().unwrap() > 0,
        "{input:#}"
    );
}

/// A proxy in front of moto that answers every GET of a key containing
/// `poison` with 503 (a throttled or failing object), and the first GET of
/// each other object with 503 once (a transient fault, to be retried).
/// Returns its endpoint and how many GETs of the poisoned key it refused.
fn flaky_proxy(
    moto: &Moto,
) -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    std::thread::JoinHandle<()>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let endpoint = format!("http://{}", server.server_addr().to_ip().unwrap());
    let upstream = moto.endpoint.clone();
    let refused = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&refused);
    let faulted = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let thread = std::thread::spawn(move || {
        let client = reqwest::blocking::Client::new();
        for mut request in server.incoming_requests() {
            let url = request.url().to_string();
            let get = *request.method() == tiny_http::Method::Get;
            let object_get = get && url.contains(".json.gz");
            if object_get && url.contains("poison") {
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = request.respond(
                    tiny_http::Response::from_data(b"SlowDown".to_vec()).with_status_code(503),
                );
                continue;
            }
            if object_get && faulted.lock().unwrap().insert(url.clone()) {
                let _ = request.respond(
                    tiny_http::Response::from_data(b"busy".to_vec()).with_status_code(503),
                );
                continue;
            }
            let mut body = Vec::new();
            let _ = request.as_reader().read_to_end(&mut body);
            let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes()).unwrap();
            let mut forward = client
                .request(method, format!("{upstream}{url}"))
                .body(body);
            for h in request.headers() {
                let name = h.field.as_str().as_str();
                if !name.eq_ignore_ascii_case("host")
                    && !name.eq_ignore_ascii_case("content-length")
                {
                    forward = forward.header(name, h.value.as_str());
                }
            }
            let Ok(answer) = forward.send() else {
                let _ = request.respond(tiny_http::Response::empty(502));
                continue;
            };
            let status = answer.status().as_u16();
            let headers: Vec<tiny_http::Header> = answer
                .headers()
                .iter()
                .filter(|(n, _)| {
                    !["content-length", "transfer-encoding", "connection"].contains(&n.as_str())
                })
                .filter_map(|(n, v)| tiny_http::Header::from_bytes(n.as_str(), v.as_bytes()).ok())
                .collect();
            let bytes = answer.bytes().map(|b| b.to_vec()).unwrap_or_default();
            let mut response = tiny_http::Response::from_data(bytes).with_status_code(status);
            for h in headers {
                response.add_header(h);
            }
            let _ = request.respond(response);
        }
    });
    (endpoint, refused, thread)
}

#[test]
fn a_failing_object_is_retried_then_rejected_with_its_url_and_the_rest_is_read() {
    let moto = Moto::start(false);
    upload_trail(&moto);
    let poison = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/poison.json.gz";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"{\"Records\": []}").unwrap();
    moto.put(&format!("trail/{poison}"), gz.finish().unwrap());
    let (endpoint, refused, _thread) = flaky_proxy(&moto);
    let (code, s, text) = ingest_from(&endpoint, "s3://trail/AWSLogs/", &TWO_DAYS);
    assert_eq!(code, 0, "{text}");
    // Every other object was read (each after one transient 503).
    assert_eq!(s["files"], 9, "{s:#}");
    assert_eq!(s["objects"].as_array().unwrap().len(), 8, "{s:#}");
    // The poisoned one was tried more than once, then rejected by its URL.
    assert!(refused.load(std::sync::atomic::Ordering::SeqCst) > 1);
    assert_eq!(s["rejected"], 1, "{text}");
    assert!(
        text.contains(&format!("s3://trail/{poison},whole file")),
        "{text}"
    );
}

#[test]
fn keys_come_from_the_shared_credentials_profile_when_the_environment_has_none() {
    let moto = Moto::start(false);
    upload_trail(&moto);
    let tmp = tempfile::tempdir().unwrap();
    let credentials = tmp.path().join("credentials");
    std::fs::write(
        &credentials,
        "[default]\naws_access_key_id = AKIAWRONGPROFILE0000\naws_secret_access_key = x\n\n\
         [audit]\naws_access_key_id = AKIAEXAMPLEEXAMPLE00\naws_secret_access_key = example-secret\n\n\
         [sso]\nsso_start_url = https://example.awsapps.com/start\n",
    )
    .unwrap();
    let config = tmp.path().join("config");
    std::fs::write(&config, "[profile audit]\nregion = us-east-1\n").unwrap();
    let ingest = |profile: &str| {
        let cache = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let output = run(proofpack_at(&moto.endpoint, cache.path())
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_REGION")
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_PROFILE", profile)
            .args(["ingest", "s3://trail/AWSLogs/", "--out"])
            .arg(out.path().join("evidence")));
        (output.status.code(), stderr(&output))
    };
    let (code, err) = ingest("audit");
    assert_eq!(code, Some(0), "{err}");
    // A profile that signs in through SSO has no keys to read: say so.
    let (code, err) = ingest("sso");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("profile sso") && err.contains("export-credentials"),
        "{err}"
    );
}
