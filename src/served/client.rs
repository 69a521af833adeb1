//! One endpoint's HTTP client. A request that meets a 429, a 5xx, a timeout or a dropped
//! connection is retried after the server's `Retry-After` or an exponential backoff, up to
//! the endpoint's limit; then the error names the URL and the last answer. A batch the server
//! refuses as too large (413, or a 400/422 saying so) is sent again in halves. An answer
//! that breaks the contract (count, order, dimension, finite values) is an error at once.

use std::time::Duration;

use super::endpoint::{Api, Endpoint};
use super::wire;
use crate::error::{Error, Result};

/// Longest wait between retries, whatever the server asks.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// First backoff; each retry doubles it, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

pub struct Client {
    agent: ureq::Agent,
    url: String,
    api: Api,
    model: Option<String>,
    token: Option<String>,
    max_retries: usize,
}

/// What one request came to.
enum Outcome {
    Vectors(Vec<Vec<f32>>),
    /// Worth another try, after `wait` when the server said.
    Retry {
        why: String,
        wait: Option<Duration>,
    },
    /// The batch is too large for the server.
    TooLarge(String),
    Fail(String),
}

impl Client {
    /// A client of `endpoint`; its bearer token is read from `api_key_env` now.
    pub fn new(endpoint: &Endpoint) -> Result<Self> {
        let token = match &endpoint.api_key_env {
            Some(var) => Some(std::env::var(var).map_err(|_| Error::Served {
                url: endpoint.url.clone(),
                what: format!("api_key_env names `{var}`, which is not set"),
            })?),
            None => None,
        };
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(endpoint.timeout_s.max(1))))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Self {
            agent,
            url: endpoint.url.clone(),
            api: endpoint.api,
            model: endpoint.model.clone(),
            token,
            max_retries: endpoint.max_retries,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The vectors of `texts`, in order.
    pub fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut last = String::new();
        for attempt in 0..=self.max_retries {
            match self.attempt(texts) {
                Outcome::Vectors(v) => return Ok(v),
                Outcome::TooLarge(_) if texts.len() > 1 => {
                    let (a, b) = texts.split_at(texts.len() / 2);
                    let mut out = self.embed(a)?;
                    out.extend(self.embed(b)?);
                    return Ok(out);
                }
                Outcome::TooLarge(why) | Outcome::Fail(why) => return Err(self.error(why)),
                Outcome::Retry { why, wait } => {
                    tracing::debug!("{}: {why}; retry {}", self.url, attempt + 1);
                    last = why;
                    if attempt < self.max_retries {
                        std::thread::sleep(wait.unwrap_or_else(|| backoff(attempt)).min(MAX_WAIT));
                    }
                }
            }
        }
        Err(self.error(format!(
            "gave up after {} attempts; the last: {last}",
            self.max_retries + 1
        )))
    }

    fn attempt(&self, texts: &[String]) -> Outcome {
        let body = wire::request(self.api, self.model.as_deref(), texts).to_string();
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = match request.send(body.as_bytes()) {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Retry {
                    why: format!("no answer ({e})"),
                    wait: None,
                }
            }
        };
        let status = response.status().as_u16();
        let wait = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = match response
            .body_mut()
            .with_config()
            .limit(1 << 32)
            .read_to_string()
        {
            Ok(t) => t,
            Err(e) => {
                return Outcome::Retry {
                    why: format!("the answer broke off ({e})"),
                    wait: None,
                }
            }
        };
        let said = || format!("HTTP {status}: {}", excerpt(&text));
        match status {
            200..=299 => match wire::vectors(self.api, &text, texts.len()) {
                Ok(v) => Outcome::Vectors(v),
                Err(e) => Outcome::Fail(format!("bad answer to {} texts: {e}", texts.len())),
            },
            429 | 500..=599 => Outcome::Retry { why: said(), wait },
            413 => Outcome::TooLarge(said()),
            400 | 422 if says_too_large(&text) => Outcome::TooLarge(said()),
            _ => Outcome::Fail(said()),
        }
    }

    fn error(&self, what: String) -> Error {
        Error::Served {
            url: self.url.clone(),
            what,
        }
    }
}

/// The wait before retry `attempt + 1`.
fn backoff(attempt: usize) -> Duration {
    let factor = 1u32 << attempt.min(16);
    FIRST_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF)
}

/// Whether an error body reads as a refusal of the batch's size.
fn says_too_large(body: &str) -> bool {
    let b = body.to_lowercase();
    ["too large", "too many", "batch size", "exceeds", "maximum"]
        .iter()
        .any(|w| b.contains(w))
}

/// The start of a body, on one line, for messages.
fn excerpt(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        assert_eq!(backoff(0), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(40), MAX_BACKOFF);
        assert!(says_too_large("Batch size 300 exceeds the maximum of 256"));
        assert!(!says_too_large("bad request: `input` is missing"));
        assert_eq!(excerpt("a\n  b"), "a b");
    }
}
