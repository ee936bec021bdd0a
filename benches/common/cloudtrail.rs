//! The synthetic CloudTrail corpus the ingest and scale benchmarks read:
//! gzipped files in AWS's layout, records built from a fixed seed.

use std::io::Write;
use std::path::Path;

/// A deterministic pseudo-random sequence (no dependency needed for this).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Writes ~`bytes` of CloudTrail JSON as gzipped files of `per_file`
/// records under `AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`. Returns
/// (records, bytes).
pub fn generate(dir: &Path, bytes: u64, per_file: usize, daily: bool) -> (u64, u64) {
    let _ = std::fs::remove_dir_all(dir);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut written, mut records, mut file_no) = (0u64, 0u64, 0u64);
    let regions = ["us-east-1", "us-west-2", "eu-west-1"];
    let accounts = ["111122223333", "444455556666"];
    let mut time = 1_793_404_800u64; // 2026-11-01T00:00:00Z
    while written < bytes {
        let account = accounts[(file_no % 2) as usize];
        let region = regions[(file_no % 3) as usize];
        // Daily: the files go round the 28 days, each file's events inside
        // its folder's day (1,000 s apart), as a trail delivers them.
        let day = if daily {
            let day = 1 + file_no % 28;
            time = 1_793_404_800 + (day - 1) * 86_400 + (file_no / 28) * 1_000;
            day
        } else {
            1 + (file_no / 40) % 28
        };
        let folder = dir.join(format!(
            "AWSLogs/{account}/CloudTrail/{region}/2026/11/{day:02}"
        ));
        std::fs::create_dir_all(&folder).unwrap();
        let mut json = String::with_capacity(per_file * 1400);
        json.push_str("{\"Records\":[");
        for i in 0..per_file {
            if i > 0 {
                json.push(',');
            }
            time += rng.below(3);
            record(&mut json, &mut rng, account, region, time);
        }
        json.push_str("]}");
        let name = format!(
            "{account}_CloudTrail_{region}_202611{day:02}T{:04}Z_{file_no:08x}.json.gz",
            file_no % 2400
        );
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(folder.join(name)).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(json.as_bytes()).unwrap();
        gz.finish().unwrap();
        written += json.len() as u64;
        records += per_file as u64;
        file_no += 1;
    }
    (records, written)
}

pub fn record(out: &mut String, rng: &mut Rng, account: &str, region: &str, time: u64) {
    use std::fmt::Write as _;
    let t = chrono::DateTime::from_timestamp(time as i64, (rng.below(1000) * 1_000_000) as u32)
        .unwrap();
    let when = t.format("%Y-%m-%dT%H:%M:%SZ");
    let n = rng.below(200);
    let key_tail: String = (0..16)
        .map(|_| (b'A' + rng.below(26) as u8) as char)
        .collect();
    let identity = match rng.below(10) {
        0..=4 => format!(
            r#"{{"type":"AssumedRole","principalId":"AROA{key_tail}:job-{n}","arn":"arn:aws:sts::{account}:assumed-role/app-{n}/job-{n}-{}","accountId":"{account}","accessKeyId":"ASIA{key_tail}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROA{key_tail}","arn":"arn:aws:iam::{account}:role/app-{n}","accountId":"{account}","userName":"app-{n}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"{when}","mfaAuthenticated":"false"}}}}}}"#,
            rng.below(1000)
        ),
        5..=6 => format!(
            r#"{{"type":"IAMUser","principalId":"AIDA{key_tail}","arn":"arn:aws:iam::{account}:user/svc-{n}","accountId":"{account}","accessKeyId":"AKIA{:0>16}","userName":"svc-{n}"}}"#,
            // A user's key is the same from call to call, as in a real trail.
            format!("SVC{n}")
        ),
        7 => r#"{"type":"AWSService","invokedBy":"lambda.amazonaws.com"}"#.to_string(),
        8 => format!(
            r#"{{"type":"AssumedRole","principalId":"AROA{key_tail}:gha","arn":"arn:aws:sts::{account}:assumed-role/ci-deployer/gha-{n}","accountId":"{account}","accessKeyId":"ASIA{key_tail}","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::{account}:role/ci-deployer","accountId":"{account}","userName":"ci-deployer"}},"webIdFederationData":{{"federatedProvider":"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com","attributes":{{}}}},"attributes":{{"creationDate":"{when}","mfaAuthenticated":"false"}}}}}}"#
        ),
        _ => format!(
            r#"{{"type":"Root","principalId":"{account}","arn":"arn:aws:iam::{account}:root","accountId":"{account}"}}"#
        ),
    };
    let (source, name, params) = match rng.below(4) {
        0 => (
            "s3",
            "GetObject",
            format!(
                r#"{{"bucketName":"data-{n}","key":"exports/2026/11/part-{}.parquet","Host":"data-{n}.s3.amazonaws.com"}}"#,
                rng.below(10000)
            ),
        ),
        1 => (
            "sts",
            "AssumeRole",
            format!(
                r#"{{"roleArn":"arn:aws:iam::{account}:role/app-{n}","roleSessionName":"job-{n}","durationSeconds":3600}}"#
            ),
        ),
        2 => (
            "ec2",
            "DescribeInstances",
            format!(
                r#"{{"instancesSet":{{"items":[{{"instanceId":"i-{:017x}"}}]}},"filterSet":{{}}}}"#,
                rng.next() >> 4
            ),
        ),
        _ => (
            "secretsmanager",
            "GetSecretValue",
            format!(r#"{{"secretId":"arn:aws:secretsmanager:{region}:{account}:secret:db-{n}"}}"#),
        ),
    };
    let error = match rng.below(20) {
        0 => {
            r#","errorCode":"AccessDenied","errorMessage":"User is not authorized to perform this action""#
        }
        1 => r#","errorCode":"ThrottlingException","errorMessage":"Rate exceeded""#,
        _ => "",
    };
    let _ = write!(
        out,
        r#"{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"{when}","eventSource":"{source}.amazonaws.com","eventName":"{name}","awsRegion":"{region}","sourceIPAddress":"10.{}.{}.{}","userAgent":"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux api/{source}#1.61.0","requestParameters":{params},"responseElements":null,"requestID":"{:016x}","eventID":"{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{account}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{source}.{region}.amazonaws.com"}}{error}}}"#,
        rng.below(256),
        rng.below(256),
        rng.below(256),
        rng.next(),
        rng.next() as u32,
        rng.below(65536),
        rng.below(4096),
        rng.below(4096),
        rng.next() >> 16
    );
}
