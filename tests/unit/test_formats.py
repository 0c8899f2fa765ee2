"""What each model format can do, asked of the format wherever it matters."""

from __future__ import annotations

import dataclasses

import msgspec
import pytest

from hearth.core.formats import ModelFormat
from hearth.core.plan import HOST, Assignment, Plan, PlanError, PlanKey
from hearth.core.planner import DeviceSpec, auto_plan, predict
from hearth.core.profile import ModelProfile, shaped_profile
from hearth.engine import messages as m
from hearth.engine.errors import BadRequest
from hearth.models.catalog import CatalogFile, CatalogModel
from hearth.models.hub import RemoteModel

SHA = "a" * 64


def _profile(fmt: str | ModelFormat) -> ModelProfile:
    shaped = shaped_profile(
        [2**20] * 8,
        embedding_length=256,
        feed_forward_length=512,
        head_count=4,
        head_count_kv=4,
        vocab_size=1000,
        head_bytes=2**20,
    )
    # A plain string is what an older file gives; the value must still come out as a format.
    return dataclasses.replace(shaped, path="/models/m", format=fmt)  # type: ignore[arg-type]


def test_only_gguf_pools_is_mapped_is_sized_by_llama_and_is_pinned() -> None:
    assert ModelFormat.GGUF.can_pool and ModelFormat.GGUF.mapped
    assert ModelFormat.GGUF.sizable and ModelFormat.GGUF.pinnable
    assert not any(
        (ModelFormat.MLX.can_pool, ModelFormat.MLX.mapped, ModelFormat.MLX.sizable, ModelFormat.MLX.pinnable)
    )


def test_a_format_is_the_string_it_always_was() -> None:
    assert ModelFormat.MLX == "mlx"  # type: ignore[comparison-overlap]
    assert ModelFormat("gguf") is ModelFormat.GGUF
    assert msgspec.json.encode(_profile("mlx")).count(b'"format":"mlx"') == 1
    decoded = msgspec.json.decode(msgspec.json.encode(_profile("mlx")), type=ModelProfile)
    assert decoded.format is ModelFormat.MLX
    unknown = msgspec.json.encode(_profile("gguf")).replace(b'"gguf"', b'"onnx"')
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(unknown, type=ModelProfile)


def test_values_built_from_plain_strings_still_know_their_format() -> None:
    assert _profile("mlx").format is ModelFormat.MLX
    remote = RemoteModel("o/r", (), format="mlx")  # type: ignore[arg-type]
    assert remote.format is ModelFormat.MLX
    files = [CatalogFile("q", "f", 1)]
    entry = CatalogModel("x", "X", "X", 1.0, "mit", 2048, "o/r", files, format="mlx")  # type: ignore[arg-type]
    assert entry.format is ModelFormat.MLX
    with pytest.raises(ValueError, match="onnx"):
        _profile("onnx")


def test_every_format_has_a_backend_on_the_wire() -> None:
    assert set(m.BACKEND_OF) == set(ModelFormat)
    assert set(m.BACKEND_OF.values()) == set(m.BACKENDS)
    local = Plan(8, (Assignment(HOST, 0, 8),))
    assert m.LoadModel.for_plan(_profile("mlx"), local, 512).backend == "mlx"
    assert m.LoadModel.for_plan(_profile("gguf"), local, 512).backend == "llama"


def test_a_format_that_cannot_pool_is_kept_on_this_device() -> None:
    host = DeviceSpec(HOST, 2**40, 1e10)
    desk = DeviceSpec(PlanKey("desk"), 2**40, 1e12)
    pooled = Plan(8, (Assignment(HOST, 0, 4), Assignment(PlanKey("desk"), 4, 8)))
    assert auto_plan(_profile("mlx"), host, [desk], 512).plan.remote == ()
    assert auto_plan(_profile("gguf"), host, [desk], 512).plan.remote != ()
    with pytest.raises(PlanError, match="alone"):
        predict(_profile("mlx"), host, [desk], pooled, 512)
    with pytest.raises(BadRequest, match="this device only"):
        m.LoadModel.for_plan(_profile("mlx"), pooled, 512, rpc_servers=["127.0.0.1:1"])


def test_only_a_gguf_can_be_pinned_in_the_catalog() -> None:
    pinned = CatalogFile("q", "model.gguf", 1, SHA)
    assert pinned.pin_problem(ModelFormat.GGUF) == ""
    assert pinned.pin_problem(ModelFormat.MLX) == "only GGUF files can be pinned"
