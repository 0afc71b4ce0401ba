"""What writes code for an agent: the offline `TemplateCoder` and `LLMCoder` (any chat model)."""

from .llm import (
    Coder,
    CodeRequest,
    LLMCoder,
    LLMNotConfigured,
    Proposal,
    chat_model_from_env,
)
from .template import AgentDefinition, NeedsLLM, TemplateCoder

__all__ = [
    "AgentDefinition",
    "CodeRequest",
    "Coder",
    "LLMCoder",
    "LLMNotConfigured",
    "NeedsLLM",
    "Proposal",
    "TemplateCoder",
    "chat_model_from_env",
]
