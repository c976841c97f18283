"""Schemathesis hooks for scripts/schemathesis.sh.

Negative (schema-violating) bodies are not sent as `multipart/form-data`. A form field carries
only text, so most of the mutations Schemathesis makes to a form cannot be sent at all: a text
field turned into a boolean arrives as the text "false" (a valid title), a number field turned
into an empty list arrives as no field (a valid, unset filter). The server rightly accepts
such requests, and the check `negative_data_rejection` then reports a failure that is not one.
The form's refusals (unknown fields, bad numbers, repeated single fields, lists over their caps)
are tested directly in `tests/http_errors.rs`, `tests/hostile_inputs.rs` and the unit tests of
`src/web/api.rs`; negative JSON bodies, queries and every positive case still run here.
"""

import schemathesis
from schemathesis.core.parameters import ParameterLocation


@schemathesis.hook
def filter_case(ctx, case):
    if case.media_type != "multipart/form-data" or case.meta is None:
        return True
    body = case.meta.components.get(ParameterLocation.BODY)
    return body is None or not body.mode.is_negative
