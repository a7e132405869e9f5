"""The process protocol [SPEC 7]: any program, in any language, graded by the conformance suite over stdin/stdout.

``stochmem conform --exec "COMMAND ARGS"`` starts the implementation as a subprocess and sends it one JSON
object per line; it answers each with one JSON object per line. :mod:`.codec` turns the contract's Python values
into the protocol's JSON and back, :mod:`.client` is the suite's side (an
:class:`~stochmem.backend_api.Backend` whose every method is a request) and :mod:`.server` serves any registered
backend over the protocol (``stochmem serve NAME``), the reference included: an oracle for other programs.
"""

PROTOCOL_VERSION = 1
