"""What Hearth relies on inside llama-cpp-python beyond its public API. The package is pinned; these
fail loudly, naming the piece, when an upgrade moves one of them."""

from __future__ import annotations

import ctypes
import inspect
from pathlib import Path

import llama_cpp
import llama_cpp.llama as llama_module
import llama_cpp.llama_cpp as llama_lib

from hearth.engine import backends, llama_runtime


def test_llama_builds_its_model_parameters_from_the_replaceable_default() -> None:
    # The engine swaps llama_cpp.llama_cpp.llama_model_default_params for one load to add a progress
    # callback, the RPC devices and the output head's placement; Llama() must look it up at call time.
    source = inspect.getsource(llama_module.Llama.__init__)
    # Read from the module's namespace: llama_cpp.llama imports the binding without re-exporting it.
    assert vars(llama_module)["llama_cpp"] is llama_lib
    assert "llama_cpp.llama_model_default_params()" in source


def test_model_parameters_have_the_fields_the_engine_sets() -> None:
    fields = {name for name, *_ in llama_lib.llama_model_params._fields_}
    assert {"progress_callback", "devices", "tensor_buft_overrides"} <= fields
    assert llama_lib.llama_progress_callback is not None


def test_a_loaded_model_exposes_its_vocabulary_handle(tiny_model: Path) -> None:
    # Generation asks llama_vocab_is_eog(llm._model.vocab, token) to stop at any end-of-generation token.
    backends.load()  # a portable build's backends are modules that something must load first
    llm = llama_cpp.Llama(str(tiny_model), n_ctx=64, verbose=False)
    try:
        vocab = llm._model.vocab
        assert isinstance(vocab, int | ctypes.c_void_p) and vocab
        assert llama_lib.llama_vocab_is_eog(vocab, llm.token_eos()) is True
    finally:
        llm.close()


def test_a_loaded_model_exposes_its_context_handle(tiny_model: Path) -> None:
    # Batched decoding drives llama_decode and the KV cache on the Llama's own context (llm._ctx.ctx).
    llm = llama_cpp.Llama(str(tiny_model), n_ctx=64, verbose=False)
    try:
        ctx = llm._ctx.ctx
        assert ctx and llama_lib.llama_n_ctx(ctx) == llm.n_ctx()
        assert llama_lib.llama_get_memory(ctx)
    finally:
        llm.close()


def test_the_loaded_library_handle_is_there() -> None:
    # hearth.engine.ggml opens libggml* only after llama_cpp loaded its own copy (llama_cpp.llama_cpp._lib),
    # so that the loader hands back the same libraries instead of a second ggml.
    assert isinstance(llama_lib._lib, ctypes.CDLL)


def test_no_other_private_name_is_used() -> None:
    # A new reliance on llama-cpp-python's private parts belongs in this file, with its own test.
    app = Path(llama_runtime.__file__).parents[1]
    used = set()
    for path in app.rglob("*.py"):
        text = path.read_text()
        for name in ("._model", "._lib", "._internals", "._ctx", "._sampler", "._batch", "._stack"):
            if f"llm{name}" in text or f"llama_lib{name}" in text or f"llama_cpp{name}" in text:
                used.add(name)
    assert used == {"._model", "._lib", "._ctx"}, used
