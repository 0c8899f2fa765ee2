"""What a Mac user would otherwise run: mlx-lm on its own, in a process of its own.

python -m benchmarks._mlx_direct serve --model FOLDER
    reads JSON lines on stdin ({"decode": TOKENS}) and answers each with {"tok_s": ...}: greedy
    decoding from the same raw prompt as every benchmark, through mlx-lm's own generate_step and
    detokenizer, tokens/s after the first token.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from benchmarks._common import PROMPT


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    import mlx.core as mx
    from mlx_lm import load
    from mlx_lm.generate import generate_step
    from mlx_lm.sample_utils import make_sampler

    model, tokenizer = load(args.model)[:2]
    prompt = mx.array(tokenizer.encode(PROMPT))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "decode" not in request:
            break
        n = int(request["decode"])
        detokenizer = tokenizer.detokenizer
        detokenizer.reset()
        first = 0.0
        for i, (token, _) in enumerate(generate_step(prompt, model, max_tokens=n, sampler=make_sampler(0.0))):
            first = first or time.perf_counter()
            detokenizer.add_token(int(token))
            _ = detokenizer.last_segment
            if i + 1 >= n:
                break
        print(json.dumps({"tok_s": (n - 1) / (time.perf_counter() - first)}), flush=True)


if __name__ == "__main__":
    main()
