"""A tiny random-weight MLX llama model with its own word-level tokenizer and chat template: what the
tests and the MLX benchmark load, written on the spot (needs ``mlx`` and ``tokenizers``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SPECIAL = ["<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@dataclass(frozen=True)
class MlxSpec:
    name: str = "tiny"
    words: int = 249
    hidden: int = 64
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    ffn: int = 128


TINY = MlxSpec()
SMALL = MlxSpec("small", words=4089, hidden=512, layers=8, heads=8, kv_heads=4, ffn=1408)


def write_model(folder: str | Path, spec: MlxSpec = TINY, seed: int = 0) -> Path:
    import mlx.core as mx
    import numpy as np
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    vocab = {t: i for i, t in enumerate([*SPECIAL, *(f"w{i}" for i in range(spec.words))])}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in SPECIAL])
    tokenizer.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "bos_token": "<s>",
                "eos_token": "</s>",
                "unk_token": "<unk>",
                "chat_template": TEMPLATE,
            }
        )
    )
    n_vocab, hidden, head_dim = len(vocab), spec.hidden, spec.hidden // spec.heads
    config = {
        "model_type": "llama",
        "_name_or_path": f"hearth-synthetic-mlx-{spec.name}",
        "hidden_size": hidden,
        "num_hidden_layers": spec.layers,
        "intermediate_size": spec.ffn,
        "num_attention_heads": spec.heads,
        "num_key_value_heads": spec.kv_heads,
        "rms_norm_eps": 1e-5,
        "vocab_size": n_vocab,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "max_position_embeddings": 2048,
        "bos_token_id": 1,
        "eos_token_id": 2,
    }
    (out / "config.json").write_text(json.dumps(config, indent=1))
    rng = np.random.default_rng(seed)

    def weight(*shape: int) -> mx.array:
        return mx.array((rng.standard_normal(shape) * 0.2).astype(np.float16))

    ones = mx.ones((hidden,), dtype=mx.float16)
    weights = {
        "model.embed_tokens.weight": weight(n_vocab, hidden),
        "model.norm.weight": ones,
        "lm_head.weight": weight(n_vocab, hidden),
    }
    for layer in range(spec.layers):
        p = f"model.layers.{layer}."
        weights |= {
            p + "self_attn.q_proj.weight": weight(spec.heads * head_dim, hidden),
            p + "self_attn.k_proj.weight": weight(spec.kv_heads * head_dim, hidden),
            p + "self_attn.v_proj.weight": weight(spec.kv_heads * head_dim, hidden),
            p + "self_attn.o_proj.weight": weight(hidden, spec.heads * head_dim),
            p + "mlp.gate_proj.weight": weight(spec.ffn, hidden),
            p + "mlp.up_proj.weight": weight(spec.ffn, hidden),
            p + "mlp.down_proj.weight": weight(hidden, spec.ffn),
            p + "input_layernorm.weight": ones,
            p + "post_attention_layernorm.weight": ones,
        }
    mx.save_safetensors(str(out / "model.safetensors"), weights, metadata={"format": "mlx"})
    return out
