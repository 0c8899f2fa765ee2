"""What a user would otherwise run: llama-cpp-python with its own defaults, in a process of its own.

    python -m benchmarks._llama_direct serve --model FILE --threads N [--ctx N]
        reads JSON lines on stdin ({"decode": TOKENS} or {"quit": true}) and answers each with
        {"tok_s": ...}, measured in this process as a script using llama-cpp-python would see it;
    python -m benchmarks._llama_direct chat --model FILE --threads N --prompt TEXT --max-tokens N
        loads the model, answers one chat message greedily (streamed to stdout as it comes, with the
        model's chat template, as a chat script would) and prints {"tok_s": ..., "ttft_s": ...,
        "tokens": ...} on stderr.

Only the thread count and the context length are set, to the same values as the Hearth side (and, for
a GPU's comparisons, the layers on the GPU); every other setting is llama-cpp-python's default. The
environment is the caller's, as for Hearth's processes. A
portable build (backends as modules) has its backends loaded from its own folder first, as any program
using that build must; a build with them compiled in is used as it is.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from typing import Any, cast

import llama_cpp

from benchmarks._common import PROMPT
from hearth.engine import backends


def _llama(args: argparse.Namespace) -> llama_cpp.Llama:
    backends.load()
    gpu: dict[str, Any] = {} if args.gpu_layers is None else {"n_gpu_layers": args.gpu_layers}
    if args.first_gpu:
        # Every offloaded layer on the first GPU alone, as a plan naming ``host/gpu0`` puts them.
        gpu |= {"split_mode": llama_cpp.LLAMA_SPLIT_MODE_NONE, "main_gpu": 0}
    return llama_cpp.Llama(
        args.model, n_ctx=args.ctx, n_threads=args.threads, n_threads_batch=args.threads, verbose=False, **gpu
    )


def decode(llm: llama_cpp.Llama, n: int) -> float:
    """Greedy decode of ``n`` tokens from a raw prompt: tokens/s after the first (it carries the prompt)."""
    prompt = llm.tokenize(PROMPT.encode(), add_bos=True, special=True)
    produced: list[int] = []
    first = 0.0
    for token in llm.generate(prompt, temp=0.0, reset=True):
        if not first:
            first = time.perf_counter()
        llm.detokenize([token], prev_tokens=prompt + produced)
        produced.append(token)
        if len(produced) >= n:
            break
    return (n - 1) / (time.perf_counter() - first)


def serve(args: argparse.Namespace) -> None:
    llm = _llama(args)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "decode" not in request:
            break
        print(json.dumps({"tok_s": decode(llm, int(request["decode"]))}), flush=True)
    llm.close()


def chat(args: argparse.Namespace) -> None:
    llm = _llama(args)
    started = time.perf_counter()
    arrivals: list[float] = []
    # With stream=True the answer is an iterator of chunks; the signature only says it may be either.
    stream = cast(
        "Iterator[llama_cpp.CreateChatCompletionStreamResponse]",
        llm.create_chat_completion(
            messages=[{"role": "user", "content": args.prompt}],
            max_tokens=args.max_tokens,
            temperature=0.0,
            stream=True,
        ),
    )
    for chunk in stream:
        content = chunk["choices"][0]["delta"].get("content")
        if isinstance(content, str) and content:
            arrivals.append(time.perf_counter())
            sys.stdout.write(content)
            sys.stdout.flush()
    tok_s = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
    ttft = arrivals[0] - started if arrivals else 0.0
    print(json.dumps({"tok_s": tok_s, "ttft_s": ttft, "tokens": len(arrivals)}), file=sys.stderr)
    llm.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["serve", "chat"])
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--ctx", type=int, default=1024)
    parser.add_argument("--prompt", default="")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--gpu-layers", type=int, help="n_gpu_layers (default: llama-cpp-python's)")
    parser.add_argument("--first-gpu", action="store_true", help="offload to the first GPU only")
    args = parser.parse_args()
    serve(args) if args.mode == "serve" else chat(args)


if __name__ == "__main__":
    main()
