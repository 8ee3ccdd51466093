"""The metric contract: families, label values and LiteLLM's error classes."""
