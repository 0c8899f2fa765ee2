"""A real draft/target pair that runs offline: SmolLM2-135M as shipped (Q4_1) drafts for the same
model written at a wider type from its own dequantized weights, a larger and slower target with the
very same tokenizer. The pair agrees more often than real pairs do (a 0.5B draft for a 72B target is
another network trained on the same data), so it shows the loop's cost and correctness, and its
acceptance rate is an upper bound for what real pairs reach."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
from gguf.quants import dequantize

# The wider types a target is written at, as numpy holds them.
WIDE = {
    "F16": (np.float16, gguf.GGMLQuantizationType.F16),
    "F32": (np.float32, gguf.GGMLQuantizationType.F32),
}


def widened(source: Path, dest: Path, kind: str = "F16") -> Path:
    """``source`` with every quantized tensor dequantized and written as ``kind``; ``dest`` is
    reused when it is there already."""
    if dest.is_file():
        return dest
    dtype, _ = WIDE[kind]
    reader = gguf.GGUFReader(source)
    arch = reader.fields["general.architecture"].contents()
    part = dest.with_suffix(".part")
    writer = gguf.GGUFWriter(part, arch)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name in ("general.architecture", "general.file_type"):
            continue
        kind_of = field.types[0]
        sub = field.types[1] if kind_of == gguf.GGUFValueType.ARRAY and len(field.types) > 1 else None
        writer.add_key_value(name, field.contents(), kind_of, sub_type=sub)
    for tensor in reader.tensors:
        if tensor.tensor_type in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
            continue
        values = dequantize(tensor.data, tensor.tensor_type)
        writer.add_tensor(tensor.name, values.astype(dtype))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    part.rename(dest)
    return dest
