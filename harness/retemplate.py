"""A real model with another chat template: every tensor and key of a GGUF copied as it is, the
template replaced. SmolLM2's tokenizer has ChatML's tokens, so a Hermes-style template that renders
tools (as Qwen's and NousResearch's GGUFs carry) gives a real model that takes tools."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gguf

TEMPLATE_KEY = "tokenizer.chat_template"

# Tools in the system turn, calls as <tool_call> objects, results in "tool" turns.
TOOLS_TEMPLATE = (
    "{% if tools %}<|im_start|>system\nYou may call these tools:\n<tools>\n"
    "{% for tool in tools %}{{ tool | tojson }}\n{% endfor %}</tools>\n"
    'Call one as <tool_call>{"name": NAME, "arguments": ARGS}</tool_call><|im_end|>\n{% endif %}'
    "{% for message in messages %}<|im_start|>{{ message.role }}\n"
    "{% if message.tool_calls %}{% for call in message.tool_calls %}<tool_call>"
    '{{ {"name": call.function.name, "arguments": call.function.arguments} | tojson }}'
    "</tool_call>{% endfor %}{% else %}{{ message.content }}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def copied(
    source: Path,
    dest: Path,
    edit: Callable[[str, Any], Any] = lambda _, value: value,
    added: dict[str, str] | None = None,
) -> Path:
    """``source`` written to ``dest`` tensor for tensor and key for key, each key's value passed
    through ``edit(name, value)`` (``None``: the key is left out), then the string keys ``added``."""
    reader = gguf.GGUFReader(source)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(dest, arch)
    for name, field in reader.fields.items():
        # The writer adds the header's own fields and the architecture itself.
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        kind = field.types[0]
        sub = field.types[1] if kind == gguf.GGUFValueType.ARRAY and len(field.types) > 1 else None
        value = edit(name, field.contents())
        if value is not None:
            writer.add_key_value(name, value, kind, sub_type=sub)
    for name, text in (added or {}).items():
        writer.add_key_value(name, text, gguf.GGUFValueType.STRING)
    for tensor in reader.tensors:
        # Quantized data comes as bytes in rows; given its type, the writer takes the shape back.
        writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return dest


def with_chat_template(source: Path, dest: Path, template: str) -> Path:
    """``source`` written to ``dest`` with ``template`` as its chat template."""
    return copied(
        source, dest, lambda name, value: None if name == TEMPLATE_KEY else value, {TEMPLATE_KEY: template}
    )
