//! HTTP GET for inputs and schema downloads: retries with backoff on
//! connection failures, 429 and 5xx (never on other 4xx), a cap on the body
//! size, and an optional bearer token that is never logged.

use std::io::Read;
use std::time::Duration;

const ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("could not download {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} sent more than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("cannot start an HTTP client: {0}")]
    Client(String),
}

/// A blocking client with proofpack's user agent and timeouts.
pub fn client() -> Result<reqwest::blocking::Client, HttpError> {
    reqwest::blocking::Client::builder()
        .user_agent(concat!("proofpack/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(300))
        .build()
        .map_err(|e| HttpError::Client(e.to_string()))
}

/// GETs `url`; the body may be at most `max_bytes`, or `max_bytes + 1` when
/// `allow_one_more` (so a caller that checks a hash sees the overrun).
pub fn get(
    client: &reqwest::blocking::Client,
    url: &str,
    max_bytes: u64,
    bearer: Option<&str>,
    allow_one_more: bool,
) -> Result<Vec<u8>, HttpError> {
    let mut last_error = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(250 * 2u64.pow(attempt)));
        }
        let mut request = client.get(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = match request.send() {
            Ok(response) => response,
            Err(e) => {
                last_error = Some(HttpError::Unreachable {
                    url: url.to_string(),
                    reason: describe(&e),
                });
                continue;
            }
        };
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 {
            last_error = Some(HttpError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
            continue;
        }
        if !status.is_success() {
            return Err(HttpError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let mut body = Vec::new();
        match response.take(max_bytes + 1).read_to_end(&mut body) {
            Ok(_) if body.len() as u64 > max_bytes && !allow_one_more => {
                return Err(HttpError::TooLarge {
                    url: url.to_string(),
                    limit: max_bytes,
                })
            }
            Ok(_) => return Ok(body),
            Err(e) => {
                last_error = Some(HttpError::Unreachable {
                    url: url.to_string(),
                    reason: format!("the transfer broke off: {e}"),
                })
            }
        }
    }
    Err(last_error.unwrap_or_else(|| HttpError::Unreachable {
        url: url.to_string(),
        reason: "no attempt was made".into(),
    }))
}

/// reqwest's own message hides the cause (connection refused, DNS); show it.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Whether an input names a URL rather than a path.
pub fn is_url(input: &str) -> bool {
    input.starts_with("https://") || input.starts_with("http://")
}
