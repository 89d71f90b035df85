"""Bridges to other frameworks (optional imports): parameter maps and gradient oracles."""
