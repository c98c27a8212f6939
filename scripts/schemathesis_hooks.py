"""Schemathesis hooks for Kinerja, loaded by scripts/schemathesis.sh through SCHEMATHESIS_HOOKS.

Plugin upload takes the raw module bytes as `application/wasm`, a media type Schemathesis has no
serializer for; it is sent the way `application/octet-stream` is, so the route gets fuzzed with
arbitrary bytes instead of being skipped with an error.
"""

import schemathesis

schemathesis.serializer.alias("application/wasm", "application/octet-stream")
