//! An embedding server of the test's own on a loopback port, for the faults a real server
//! will not produce on demand: each request is answered as the test's script says (a status
//! with a body, a pause, a dropped connection), and vectors are made from the texts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

/// How one request is answered.
pub enum Reply {
    /// The OpenAI answer for the texts, vectors from [`vector`].
    Vectors,
    /// This status, extra headers and body.
    Status(u16, Vec<(String, String)>, String),
    /// The connection closed without an answer.
    Drop,
    /// This long a pause, then the reply.
    After(Duration, Box<Reply>),
}

/// A deterministic vector for a text: its length and its first bytes, scaled.
pub fn vector(text: &str) -> Vec<f32> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0) as f32 / 255.0;
    vec![text.len() as f32 / 100.0, at(0), at(1), at(2)]
}

pub struct FakeEmbedder {
    pub url: String,
    /// Requests received so far.
    pub requests: Arc<AtomicUsize>,
}

impl FakeEmbedder {
    /// Serves until the test process ends; `script(n, texts)` answers the n-th request
    /// (0-based) for `texts`.
    pub fn start(script: impl Fn(usize, &[String]) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1/embeddings", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        let script = Arc::new(script);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (script, count) = (script.clone(), count.clone());
                std::thread::spawn(move || {
                    if let Some(texts) = read_texts(&stream) {
                        let n = count.fetch_add(1, Ordering::SeqCst);
                        answer(stream, script(n, &texts), &texts);
                    }
                });
            }
        });
        Self { url, requests }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// The `input` texts of one POST.
fn read_texts(stream: &TcpStream) -> Option<Vec<String>> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let value: Value = serde_json::from_slice(&body).ok()?;
    let texts = value["input"].as_array()?;
    Some(
        texts
            .iter()
            .map(|t| t.as_str().unwrap_or("").to_string())
            .collect(),
    )
}

fn answer(mut stream: TcpStream, reply: Reply, texts: &[String]) {
    match reply {
        Reply::Drop => {}
        Reply::After(pause, then) => {
            std::thread::sleep(pause);
            answer(stream, *then, texts);
        }
        Reply::Vectors => {
            let data: Vec<Value> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": vector(t)}))
                .collect();
            let body = json!({"object": "list", "data": data}).to_string();
            write(&mut stream, 200, &[], &body);
        }
        Reply::Status(status, headers, body) => write(&mut stream, status, &headers, &body),
    }
}

fn write(stream: &mut TcpStream, status: u16, headers: &[(String, String)], body: &str) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += "\r\n";
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}
