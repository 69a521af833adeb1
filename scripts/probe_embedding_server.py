#!/usr/bin/env python3
"""Probe an OpenAI-compatible embedding server (scripts/embedding-server.sh: infinity-emb) and
print what a client of it needs to know, as `key: value` lines.

    eval "$(scripts/embedding-server.sh start | grep -E '^(url|model)=')"
    ~/.cache/peer-venv/bin/python scripts/probe_embedding_server.py --url "$url" --model "$model"
    scripts/embedding-server.sh stop

Checks: the response's JSON shape; vectors for 5 sentences (the first 5 non-blank lines of
tests/fixtures/texts.txt) against sentence-transformers, their norms (does the server
normalise?); blank texts; (a) an empty `input` list, (b) a text of 2000 words (truncated? an
error?), (c) 300 texts in one request and the largest list accepted, (d) a wrong `model`
name; then texts/s for 2000 short sentences (../shared/peer/bench/bench_short_2000.txt, else
texts.txt repeated) sent in batches of --batch with --inflight requests in flight.

Standard library only, except the sentence-transformers comparison, which needs
sentence_transformers (and so numpy/torch) importable: run it with the peer venv's python
(~/.cache/peer-venv/bin/python, made by ../shared/peer/setup.sh). With plain python3 that part
is skipped (or pass --no-st) and the rest runs.
"""
import argparse
import concurrent.futures as cf
import json
import math
import os
import platform
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def post(url, body, timeout=600):
    """POST JSON; returns (status, parsed body or text)."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        raw = e.read().decode("utf-8", "replace")
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw


def short(obj, n=300):
    s = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


def shape(obj):
    """The JSON's structure with values replaced by their types (lists shown by one element)."""
    if isinstance(obj, dict):
        return {k: shape(v) for k, v in obj.items()}
    if isinstance(obj, list):
        if obj and isinstance(obj[0], (int, float)):
            return "list[%s] x%d" % (type(obj[0]).__name__, len(obj))
        return [shape(obj[0])] + (["... x%d" % len(obj)] if len(obj) > 1 else []) if obj else []
    return type(obj).__name__


def norm(v):
    return math.sqrt(sum(x * x for x in v))


def maxabs(a, b):
    return max(abs(x - y) for x, y in zip(a, b))


def cos(a, b):
    return sum(x * y for x, y in zip(a, b)) / (norm(a) * norm(b))


def vectors(resp):
    return [d["embedding"] for d in sorted(resp["data"], key=lambda d: d["index"])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:PORT/v1")
    ap.add_argument("--model", default="all-MiniLM-L6-v2", help="model name the server serves")
    ap.add_argument("--model-dir", default=os.path.join(ROOT, ".cache/models/all-MiniLM-L6-v2"),
                    help="folder for the sentence-transformers comparison")
    ap.add_argument("--texts", default=os.path.join(ROOT, "tests/fixtures/texts.txt"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "../shared/peer/bench/bench_short_2000.txt"))
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--inflight", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3, help="throughput runs; the best is reported")
    ap.add_argument("--no-st", action="store_true", help="skip the sentence-transformers comparison")
    args = ap.parse_args()
    emb = args.url.rstrip("/") + "/embeddings"
    out = lambda k, v: print("%s: %s" % (k, v), flush=True)

    lines = open(args.texts, encoding="utf-8").read().split("\n")
    five = [l for l in lines if l.strip()][:5]

    # ---- shape and the 5 sentences
    st, r = post(emb, {"model": args.model, "input": five})
    assert st == 200, (st, r)
    sh = shape(r)
    out("response shape", json.dumps(sh))
    out("response usage", json.dumps(r.get("usage")))
    out("response model", r.get("model"))
    got = vectors(r)
    out("dim", len(got[0]))
    out("norms (server)", " ".join("%.6f" % norm(v) for v in got))

    if not args.no_st:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            out("sentence-transformers comparison", "skipped (%s); run with the peer venv's python" % e)
        else:
            m = SentenceTransformer(args.model_dir, device="cpu")
            raw = m.encode(five, normalize_embeddings=False).tolist()
            out("norms (sentence-transformers, normalize_embeddings=False)",
                " ".join("%.6f" % norm(v) for v in raw))
            unit = [[x / norm(v) for x in v] for v in raw]
            out("max |delta| vs ST raw", "%.3g" % max(maxabs(a, b) for a, b in zip(got, raw)))
            out("max |delta| vs ST L2-normalised", "%.3g" % max(maxabs(a, b) for a, b in zip(got, unit)))
            out("min cosine vs ST", "%.9f" % min(cos(a, b) for a, b in zip(got, raw)))

    # ---- blank texts
    for label, inp in (("blank text ''", [""]), ("blank text '   '", ["   "])):
        st, r = post(emb, {"model": args.model, "input": inp})
        out(label, "HTTP %d %s" % (st, ("norm %.6f" % norm(r["data"][0]["embedding"])) if st == 200 else short(r)))

    # ---- (a) empty input list
    st, r = post(emb, {"model": args.model, "input": []})
    out("(a) input=[]", "HTTP %d %s" % (st, short(r, 600)))

    # ---- (b) 2000 words
    words = " ".join(l for l in lines if l.strip()).split()
    long_text = " ".join((words * (2000 // len(words) + 1))[:2000])
    st, r = post(emb, {"model": args.model, "input": [long_text]})
    if st == 200:
        v = r["data"][0]["embedding"]
        out("(b) 2000 words", "HTTP 200, dim %d, usage %s" % (len(v), json.dumps(r.get("usage"))))
        # is it the first 256 tokens? compare with the server's embedding of a prefix
        prefix = " ".join(long_text.split()[:150])
        st2, r2 = post(emb, {"model": args.model, "input": [prefix]})
        if st2 == 200:
            out("(b) cosine(2000 words, its first 150 words)", "%.6f" % cos(v, r2["data"][0]["embedding"]))
        if not args.no_st:
            try:
                from sentence_transformers import SentenceTransformer
                m = SentenceTransformer(args.model_dir, device="cpu")
                ref = m.encode([long_text], normalize_embeddings=True).tolist()[0]
                out("(b) max |delta| vs ST (which truncates at max_seq_length=%d)" % m.max_seq_length,
                    "%.3g" % maxabs(v, ref))
            except ImportError:
                pass
    else:
        out("(b) 2000 words", "HTTP %d %s" % (st, short(r, 600)))

    # ---- (c) 300 texts, then the largest list accepted
    bench = (open(args.bench, encoding="utf-8").read().split("\n") if os.path.exists(args.bench)
             else [l for l in lines if l.strip()] * 100)
    bench = [l for l in bench if l.strip()]
    while len(bench) < 2000:
        bench = bench + bench
    bench = bench[:2000]
    t = time.time()
    st, r = post(emb, {"model": args.model, "input": bench[:300]})
    out("(c) 300 texts", "HTTP %d %s in %.2fs" % (
        st, ("%d vectors, usage %s" % (len(r["data"]), json.dumps(r["usage"]))) if st == 200 else short(r, 600),
        time.time() - t))
    for n in (2048, 2049):
        inp = (bench * 2)[:n]
        st, r = post(emb, {"model": args.model, "input": inp})
        out("(c) %d texts" % n, "HTTP %d %s" % (st, ("%d vectors" % len(r["data"])) if st == 200 else short(r, 600)))

    # ---- (d) wrong model name
    for label, body in (("(d) model='no-such-model'", {"model": "no-such-model", "input": five[:1]}),
                        ("(d) no model key", {"input": five[:1]})):
        st, r = post(emb, body)
        if st == 200:
            out(label, "HTTP 200 (served by the only model), response model=%r, max |delta| vs the "
                       "right name's vector %.3g" % (r.get("model"), maxabs(vectors(r)[0], got[0])))
        else:
            out(label, "HTTP %d %s" % (st, short(r, 600)))

    # ---- encoding_format=base64 (OpenAI clients send it by default)
    st, r = post(emb, {"model": args.model, "input": five[:1], "encoding_format": "base64"})
    out("encoding_format=base64", "HTTP %d %s" % (st, short(shape(r) if st == 200 else r, 300)))

    # ---- throughput
    batches = [bench[i:i + args.batch] for i in range(0, len(bench), args.batch)]

    def one(b):
        st, r = post(emb, {"model": args.model, "input": b})
        assert st == 200 and len(r["data"]) == len(b), (st, short(r))
        return len(b)

    post(emb, {"model": args.model, "input": bench[:64]})  # warm
    best = None
    for _ in range(args.repeats):
        t = time.time()
        with cf.ThreadPoolExecutor(args.inflight) as ex:
            n = sum(ex.map(one, batches))
        dt = time.time() - t
        best = dt if best is None else min(best, dt)
        out("throughput run", "%d texts in %.2fs = %.0f texts/s" % (n, dt, n / dt))
    if best is None:
        return
    out("throughput best", "%.0f texts/s (%d texts, batch %d, %d in flight, best of %d)" % (
        len(bench) / best, len(bench), args.batch, args.inflight, args.repeats))
    try:
        cpu = [l.split(":", 1)[1].strip() for l in subprocess.run(
            ["lscpu"], capture_output=True, text=True).stdout.splitlines() if l.startswith("Model name")][0]
    except Exception:
        cpu = platform.processor()
    out("cpu", "%s, %d cores" % (cpu, os.cpu_count()))


if __name__ == "__main__":
    main()
