"""A plugin whose import fails."""

raise ImportError("No module named 'some_gpu_sdk'")
