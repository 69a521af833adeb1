//! A served model's client against the faults a real server will not produce on demand
//! (tests/common/fake_embedder.rs): slow answers, 429 with Retry-After, 500s, a dropped
//! connection, a batch refused as too large, and answers that break the contract (wrong
//! count, a NaN, another dimension). Each is a retry or a clear error naming the URL, and a
//! run that fails writes no result file.

mod common;

use std::time::Duration;

use common::fake_embedder::{vector, FakeEmbedder, Reply};
use leafbench::served::{Endpoint, ServedModel};
use leafbench::Role;

/// An endpoint of small batches, a few quick retries and a short timeout; `extra` lines
/// replace those settings.
fn endpoint(url: &str, extra: &str) -> Endpoint {
    let mut yaml = format!("url: {url}\n{extra}");
    for default in [
        "batch_size: 2",
        "concurrency: 2",
        "max_retries: 3",
        "timeout_s: 2",
    ] {
        let key = default.split(':').next().unwrap();
        if !extra.contains(&format!("{key}:")) {
            yaml += &format!("{default}\n");
        }
    }
    serde_saphyr::from_str(&yaml).unwrap()
}

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("text number {i}")).collect()
}

fn encode(
    server: &FakeEmbedder,
    extra: &str,
    n: usize,
) -> leafbench::Result<leafbench::Embeddings> {
    let model = ServedModel::new(&endpoint(&server.url, extra))?;
    model.encode(&texts(n), Role::Document, &|_| {})
}

fn status(code: u16, body: &str) -> Reply {
    Reply::Status(code, Vec::new(), body.to_string())
}

/// The vectors the fake server makes, in input order, for checking placement.
fn expected(n: usize) -> Vec<f32> {
    texts(n).iter().flat_map(|t| vector(t)).collect()
}

#[test]
fn answers_come_back_in_input_order_with_several_requests_in_flight() {
    // Later batches answer first.
    let server = FakeEmbedder::start(|n, _| {
        Reply::After(
            Duration::from_millis(50 * (5 - n.min(5)) as u64),
            Box::new(Reply::Vectors),
        )
    });
    let emb = encode(&server, "", 9).unwrap();
    assert_eq!((emb.rows, emb.dim), (9, 4));
    assert_eq!(emb.data, expected(9));
    assert_eq!(server.requests(), 5, "batches of 2");
}

#[test]
fn busy_and_failing_servers_are_retried() {
    for (name, first) in [
        (
            "429",
            Reply::Status(
                429,
                vec![("Retry-After".into(), "1".into())],
                "slow down".into(),
            ),
        ),
        ("500", status(500, "oops")),
        ("drop", Reply::Drop),
        (
            "slow",
            Reply::After(Duration::from_secs(4), Box::new(Reply::Vectors)),
        ),
    ] {
        let first = std::sync::Mutex::new(Some(first));
        let server = FakeEmbedder::start(move |n, _| match n {
            0 => first.lock().unwrap().take().unwrap(),
            _ => Reply::Vectors,
        });
        let emb = encode(&server, "", 2).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(emb.data, expected(2), "{name}");
        assert_eq!(server.requests(), 2, "{name}: one retry");
    }
}

#[test]
fn a_server_that_keeps_failing_is_named_with_its_last_answer() {
    let server = FakeEmbedder::start(|_, _| status(503, "model is loading"));
    let err = encode(&server, "", 2).unwrap_err().to_string();
    assert!(err.contains(&server.url), "{err}");
    assert!(err.contains("gave up after 4 attempts"), "{err}");
    assert!(err.contains("HTTP 503: model is loading"), "{err}");
    assert_eq!(server.requests(), 4);
}

#[test]
fn a_batch_refused_as_too_large_is_sent_in_halves() {
    let server = FakeEmbedder::start(|_, texts| match texts.len() {
        1 => Reply::Vectors,
        _ => status(413, "payload too large"),
    });
    let emb = encode(&server, "batch_size: 4\n", 6).unwrap();
    assert_eq!(emb.data, expected(6));
    let refused = FakeEmbedder::start(|_, _| status(422, "batch size exceeds the maximum"));
    let err = encode(&refused, "", 1).unwrap_err().to_string();
    assert!(
        err.contains("HTTP 422"),
        "a single text is not split further: {err}"
    );
}

#[test]
fn answers_that_break_the_contract_are_errors_at_once() {
    let two = |body: &'static str| move |_: usize, _: &[String]| status(200, body);
    let cases: Vec<(FakeEmbedder, &str)> = vec![
        (
            FakeEmbedder::start(two(r#"{"data": [{"index": 0, "embedding": [1, 2]}]}"#)),
            "1 vectors for 2 texts",
        ),
        (
            FakeEmbedder::start(two(
                r#"{"data": [{"index": 0, "embedding": [1, NaN]}, {"index": 1, "embedding": [1, 2]}]}"#,
            )),
            "not valid JSON",
        ),
        (
            FakeEmbedder::start(two(
                r#"{"data": [{"index": 0, "embedding": [1, null]}, {"index": 1, "embedding": [1, 2]}]}"#,
            )),
            "value 1 is null, not a finite number",
        ),
    ];
    for (server, want) in cases {
        let err = encode(&server, "", 2).unwrap_err().to_string();
        assert!(err.contains(want) && err.contains(&server.url), "{err}");
        assert_eq!(server.requests(), 1, "not retried: {err}");
    }
    // The second batch answers with another dimension than the first.
    let server = FakeEmbedder::start(|n, texts| match n {
        0 => Reply::Vectors,
        _ => {
            let data: Vec<String> = (0..texts.len())
                .map(|i| format!(r#"{{"index": {i}, "embedding": [1, 2, 3]}}"#))
                .collect();
            status(200, &format!(r#"{{"data": [{}]}}"#, data.join(",")))
        }
    });
    let err = encode(&server, "concurrency: 1\n", 4)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("came back with 3 dimensions, earlier ones with 4"),
        "{err}"
    );
}

#[test]
fn prompts_are_added_and_vectors_normalised_when_asked() {
    let server = FakeEmbedder::start(|_, _| Reply::Vectors);
    let model = ServedModel::new(&endpoint(
        &server.url,
        "prompts: {query: 'q: '}\nnormalize: true\n",
    ))
    .unwrap();
    let emb = model.encode(&texts(1), Role::Query, &|_| {}).unwrap();
    let raw = vector("q: text number 0");
    let norm = raw.iter().map(|x| x * x).sum::<f32>().sqrt();
    let want: Vec<f32> = raw.iter().map(|x| x / norm).collect();
    assert_eq!(emb.data, want);
}

#[test]
fn a_failed_run_writes_no_result() {
    let server = FakeEmbedder::start(|_, _| status(500, "broken"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("results");
    let config = format!(
        "models:\n  - name: me/served\n    endpoint: {{url: {}, max_retries: 1}}\n\
         tasks: [STSBenchmark]\ndata_dir: {}\noutput_dir: {}\n",
        server.url,
        common::shared_data().display(),
        out.display()
    );
    let path = work.path().join("run.yaml");
    std::fs::write(&path, config).unwrap();
    let run = common::leafbench(&["run", path.to_str().unwrap(), "--quiet"]);
    let err = common::stderr(&run);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&server.url) && err.contains("HTTP 500: broken"),
        "{err}"
    );
    let written: Vec<_> = common::files_below(&out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().unwrap() != "model_meta.json")
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

/// `leafbench <command> --endpoint url <args> --quiet`.
fn served_command(command: &str, url: &str, args: &[&std::path::Path]) -> std::process::Output {
    let flags: &[&str] = match command {
        "embed" => &["--input", "--output"],
        _ => &["--texts", "--reference"],
    };
    let mut argv = vec![command, "--endpoint", url, "--quiet"];
    for (flag, path) in flags.iter().zip(args) {
        argv.push(flag);
        argv.push(path.to_str().unwrap());
    }
    common::leafbench(&argv)
}

#[test]
fn embed_and_parity_reach_a_served_model() {
    let server = FakeEmbedder::start(|_, _| Reply::Vectors);
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("texts.txt");
    std::fs::write(&input, texts(5).join("\n") + "\n").unwrap();
    let output = work.path().join("served.npy");
    let embed = served_command("embed", &server.url, &[&input, &output]);
    assert!(embed.status.success(), "{}", common::stderr(&embed));
    let written = leafbench::Embeddings::load_npy(&output).unwrap();
    assert_eq!(written.data, expected(5));
    // The same vectors pass; a reference that differs in one component fails.
    let same = served_command("parity", &server.url, &[&input, &output]);
    assert_eq!(same.status.code(), Some(0), "{}", common::stdout(&same));
    let mut other = written.clone();
    other.data[1] += 0.5;
    let shifted = work.path().join("shifted.npy");
    std::fs::write(&shifted, other.to_npy()).unwrap();
    let out = served_command("parity", &server.url, &[&input, &shifted]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stdout(&out));
    // A server that fails leaves no output file.
    let broken = FakeEmbedder::start(|_, _| status(500, "broken"));
    let lost = work.path().join("lost.npy");
    let embed = served_command("embed", &broken.url, &[&input, &lost]);
    assert_eq!(embed.status.code(), Some(2), "{}", common::stderr(&embed));
    assert!(!lost.exists());
}

#[test]
fn texts_are_cut_to_what_the_reference_model_reads_when_asked() {
    let server = FakeEmbedder::start(|_, _| Reply::Vectors);
    let long = vec![
        "word ".repeat(600).trim_end().to_string(),
        "short text".to_string(),
    ];
    let sent_length = |extra: &str| {
        let model = ServedModel::new(&endpoint(&server.url, extra)).unwrap();
        let emb = model.encode(&long, Role::Document, &|_| {}).unwrap();
        // The fake server's first component is the text's length / 100.
        [emb.row(0)[0], emb.row(1)[0]].map(|x| (x * 100.0).round() as usize)
    };
    assert_eq!(sent_length(""), [2999, 10], "sent whole");
    let minilm = common::minilm_dir();
    let cut = sent_length(&format!("truncate_like: {}\n", minilm.display()));
    // all-MiniLM-L6-v2 reads 256 tokens: [CLS], 254 words, [SEP].
    assert_eq!(cut, [254 * 5 - 1, 10]);
}
