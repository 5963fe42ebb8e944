"""schemathesis hooks of the api-contract tests: every request is made as a signed-in user.

The fuzzer signs itself out (logout, logout-all) and renames itself, so a fixed token would
leave most operations answering 401. This provider registers a new user at FUZZ_USERS_URL
(set by tests/schemathesis.rs, on a stack whose sign-up limit is lifted) whenever it needs a
token: at the start, every minute, and whenever an answer is 401.
"""

import json
import os
import secrets
import urllib.request

import schemathesis


@schemathesis.auth(refresh_interval=60)
class SignedIn:
    def get(self, case, context):
        name = "fz" + secrets.token_hex(8)
        body = json.dumps(
            {
                "username": name,
                "email": name + "@example.com",
                "password": "correct horse battery",
                "token_delivery": "body",
            }
        ).encode()
        request = urllib.request.Request(
            os.environ["FUZZ_USERS_URL"] + "/auth/register",
            data=body,
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["tokens"]["access_token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
