"""Turning what the proxy saw into what we keep: decoding, SSE reassembly, redaction."""

from inspector.capture.assemble import build_capture, session_id_of

__all__ = ["build_capture", "session_id_of"]
