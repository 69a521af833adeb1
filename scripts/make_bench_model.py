"""Writes a random-weight sentence-transformers folder of mixedbread-ai/mxbai-embed-large-v1's
shape (BERT-large: 24 layers, hidden 1024, 16 heads, intermediate 4096, CLS pooling, 512
positions) for encode benchmarks, whose real weights are not available here. The tokenizer is
all-MiniLM-L6-v2's (the same 30,522-token uncased BERT vocabulary), so token counts match.

    python scripts/make_bench_model.py MINILM_DIR OUT_DIR

Run with the peer's Python (torch, transformers, sentence-transformers: ../shared/peer/setup.sh).
The weights are drawn with a fixed seed, so the folder is the same on every run."""
import shutil
import sys
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer, models
from transformers import BertConfig, BertModel


def main(minilm: Path, out: Path) -> None:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
        max_position_embeddings=512,
        hidden_act="gelu",
    )
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    backbone = tmp / "backbone"
    BertModel(config).save_pretrained(backbone, safe_serialization=True)
    for name in ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]:
        shutil.copy(minilm / name, backbone / name)
    transformer = models.Transformer(str(backbone), max_seq_length=512)
    pooling = models.Pooling(1024, pooling_mode="cls")
    SentenceTransformer(modules=[transformer, pooling]).save(str(tmp / "model"))
    shutil.rmtree(out, ignore_errors=True)
    (tmp / "model").rename(out)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
