//! Cloud Storage folders listed through its JSON API
//! (`GET /storage/v1/b/BUCKET/o?prefix=&delimiter=/`), the API Google
//! documents first and the one Cloud Storage emulators implement;
//! `object_store` lists and reads through the XML API, which they do not
//! (or only in part). An object is read as the generation that was listed
//! (`alt=media&generation=`), so the bytes hashed are the bytes listed.
//!
//! The endpoint is `GOOGLE_BASE_URL` (as `object_store` reads it, for an
//! emulator or a private endpoint), else `https://storage.googleapis.com`;
//! the bearer token is `object_store`'s credential chain's, none with
//! `GOOGLE_SKIP_SIGNATURE=true`.

use std::sync::Arc;

use object_store::gcp::{GoogleCloudStorage, GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::path::Path as StorePath;
use object_store::{ListResult, ObjectMeta};
use serde::Deserialize;

#[derive(Debug)]
pub struct Lister {
    gcs: Arc<GoogleCloudStorage>,
    base_url: String,
    bucket: String,
    signed: bool,
    http: reqwest::Client,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    items: Vec<Item>,
    #[serde(default)]
    prefixes: Vec<String>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct Item {
    name: String,
    /// A decimal string in the JSON API.
    size: Option<String>,
    etag: Option<String>,
    generation: Option<String>,
    updated: Option<String>,
}

impl Lister {
    pub fn open(input: &str) -> Result<Lister, String> {
        let url = url::Url::parse(input).map_err(|e| format!("{input}: not a URL: {e}"))?;
        let bucket = url.host_str().unwrap_or_default().to_string();
        let builder = GoogleCloudStorageBuilder::from_env().with_url(input);
        let base_url = builder
            .get_config_value(&GoogleConfigKey::BaseUrl)
            .unwrap_or_else(|| "https://storage.googleapis.com".into());
        let signed = builder
            .get_config_value(&GoogleConfigKey::SkipSignature)
            .is_none_or(|v| !v.eq_ignore_ascii_case("true"));
        let gcs = builder.build().map_err(|e| format!("gs://{bucket}: {e}"))?;
        Ok(Lister {
            gcs: Arc::new(gcs),
            base_url: base_url.trim_end_matches('/').to_string(),
            bucket,
            signed,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .map_err(|e| e.to_string())?,
        })
    }

    async fn bearer(&self) -> Result<Option<String>, String> {
        if !self.signed {
            return Ok(None);
        }
        let credential = self
            .gcs
            .credentials()
            .get_credential()
            .await
            .map_err(|e| e.to_string())?;
        Ok(Some(credential.bearer.clone()).filter(|b| !b.is_empty()))
    }

    /// One object's bytes (the generation listed, when known).
    pub async fn fetch(
        &self,
        name: &StorePath,
        generation: Option<&str>,
    ) -> Result<Vec<u8>, String> {
        let encoded: String =
            url::form_urlencoded::byte_serialize(name.as_ref().as_bytes()).collect();
        let endpoint = format!(
            "{}/download/storage/v1/b/{}/o/{}",
            self.base_url,
            self.bucket,
            encoded.replace('+', "%20")
        );
        let mut request = self.http.get(&endpoint).query(&[("alt", "media")]);
        if let Some(g) = generation {
            request = request.query(&[("generation", g)]);
        }
        if let Some(b) = self.bearer().await? {
            request = request.bearer_auth(b);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("HTTP {status} reading gs://{}/{name}", self.bucket));
        }
        Ok(body.to_vec())
    }

    /// The objects and sub-folders directly under `at`, every page.
    pub async fn list_with_delimiter(&self, at: Option<&StorePath>) -> Result<ListResult, String> {
        let prefix = at.map(|p| format!("{p}/")).unwrap_or_default();
        let bearer = self.bearer().await?;
        let endpoint = format!("{}/storage/v1/b/{}/o", self.base_url, self.bucket);
        let mut result = ListResult {
            common_prefixes: Vec::new(),
            objects: Vec::new(),
        };
        let mut token: Option<String> = None;
        loop {
            let mut request = self
                .http
                .get(&endpoint)
                .query(&[("prefix", prefix.as_str()), ("delimiter", "/")]);
            if let Some(t) = &token {
                request = request.query(&[("pageToken", t.as_str())]);
            }
            if let Some(b) = bearer.as_deref() {
                request = request.bearer_auth(b);
            }
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let body = response.bytes().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                let text = String::from_utf8_lossy(&body);
                return Err(format!(
                    "HTTP {status}: {}",
                    text.chars().take(300).collect::<String>()
                ));
            }
            let page: Page = serde_json::from_slice(&body)
                .map_err(|e| format!("not a Cloud Storage object listing: {e}"))?;
            for item in page.items {
                // The folder's own placeholder object (`prefix/`) is not a file.
                if item.name.ends_with('/') {
                    continue;
                }
                result.objects.push(ObjectMeta {
                    location: StorePath::from(item.name.as_str()),
                    last_modified: item
                        .updated
                        .as_deref()
                        .and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok())
                        .map(|t| t.with_timezone(&chrono::Utc))
                        .unwrap_or_default(),
                    size: item.size.and_then(|s| s.parse().ok()).unwrap_or(0),
                    e_tag: item.etag,
                    version: item.generation,
                });
            }
            result.common_prefixes.extend(
                page.prefixes
                    .iter()
                    .map(|p| StorePath::from(p.trim_end_matches('/'))),
            );
            match page.next_page_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(result),
            }
        }
    }
}
