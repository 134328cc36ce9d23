"""Siting analysis runs (选址分析任务): request, inputs from the store, background runs, CLI."""
