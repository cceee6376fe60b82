"""The one exception the wire codec raises."""


class ParseError(ValueError):
    """Input bytes are not a well-formed IKEv2 message or payload."""
