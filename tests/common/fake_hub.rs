//! A Hugging Face hub stand-in on a loopback port, enough for hf-hub's sync client: the repo
//! info endpoint (`/api/<kind>s/<repo>/revision/<rev>`) and file downloads
//! (`/<prefix><repo>/resolve/<rev>/<file>`, with the range requests hf-hub makes). Lets a
//! test exercise the download path without leaving the machine.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One repo's files at one commit.
pub struct FakeRepo {
    /// `datasets/` for datasets, empty for models (as in hub URLs).
    pub url_prefix: &'static str,
    pub repo: String,
    pub sha: String,
    pub files: BTreeMap<String, Vec<u8>>,
}

pub struct FakeHub {
    pub endpoint: String,
    /// Every request path served, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl FakeHub {
    /// Serves `repos` until the test process ends.
    pub fn start(repos: Vec<FakeRepo>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let repos = Arc::new(repos);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let repos = repos.clone();
                let log = log.clone();
                std::thread::spawn(move || serve(stream, &repos, &log));
            }
        });
        Self { endpoint, requests }
    }

    pub fn served(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, repos: &[FakeRepo], log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_string());
            }
        }
    }
    log.lock().unwrap().push(path.clone());
    let response = respond(&path, range.as_deref(), repos);
    let mut stream = stream;
    let _ = stream.write_all(&response);
}

fn respond(path: &str, range: Option<&str>, repos: &[FakeRepo]) -> Vec<u8> {
    for repo in repos {
        let kind = if repo.url_prefix.is_empty() {
            "models"
        } else {
            "datasets"
        };
        let info_prefix = format!("/api/{kind}/{}/revision/", repo.repo);
        if path.starts_with(&info_prefix) {
            let siblings: Vec<_> = repo
                .files
                .keys()
                .map(|f| serde_json::json!({ "rfilename": f }))
                .collect();
            let body = serde_json::json!({ "sha": repo.sha, "siblings": siblings }).to_string();
            return http(
                200,
                &[("Content-Type", "application/json".into())],
                body.as_bytes(),
            );
        }
        let file_prefix = format!("/{}{}/resolve/", repo.url_prefix, repo.repo);
        if let Some(rest) = path.strip_prefix(&file_prefix) {
            let file = rest.split_once('/').map(|(_, f)| f).unwrap_or("");
            let Some(bytes) = repo.files.get(file) else {
                return http(404, &[], b"not found");
            };
            return ranged(bytes, range, &repo.sha);
        }
    }
    http(404, &[], b"not found")
}

fn ranged(bytes: &[u8], range: Option<&str>, sha: &str) -> Vec<u8> {
    let (start, end) = range
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .map(|(a, b)| {
            let start: usize = a.parse().unwrap_or(0);
            let end: usize = b.parse().unwrap_or(bytes.len().saturating_sub(1));
            (start, end.min(bytes.len().saturating_sub(1)))
        })
        .unwrap_or((0, bytes.len().saturating_sub(1)));
    let body = if bytes.is_empty() {
        &[][..]
    } else {
        &bytes[start..=end]
    };
    let headers = [
        (
            "ETag",
            format!("\"etag-{}-{}\"", bytes.len(), checksum(bytes)),
        ),
        ("X-Repo-Commit", sha.to_string()),
        (
            "Content-Range",
            format!("bytes {start}-{end}/{}", bytes.len()),
        ),
    ];
    http(206, &headers, body)
}

fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

fn http(status: u16, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out += &format!("{k}: {v}\r\n");
    }
    out += "\r\n";
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}
