"""What writes code for an agent: the offline `TemplateCoder` (and, later, `LLMCoder`)."""

from .template import AgentDefinition, NeedsLLM, TemplateCoder

__all__ = ["AgentDefinition", "NeedsLLM", "TemplateCoder"]
