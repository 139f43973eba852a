"""A small OpenID Connect issuer for tests, served on a free localhost port in a thread.

It publishes a discovery document and a JWKS (one RSA key made with `cryptography`), answers `/authorize` by
redirecting straight back with a code (no login page: the test decides who signs in through `person`), and
`/token` by checking the client's credentials, the redirect URI and the PKCE verifier, then returning an ID
token signed with its key. `tamper` makes the next tokens wrong in one named way, for the refusals:
`signature` (signed by another key under the same key id), `nonce`, `audience`, `issuer`, `expired`.

    with StubIssuer(client_id="wealthgate", client_secret="s3cret") as issuer:
        issuer.person = {"sub": "u-1", "email": "a@b.test", "email_verified": True}
        ... settings.oidc_issuer = issuer.url ...
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

TAMPERINGS = ("signature", "nonce", "audience", "issuer", "expired")


def _rsa_key(kid: str) -> RSAKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return RSAKey.import_key(pem, {"kid": kid, "use": "sig", "alg": "RS256"})


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class StubIssuer:
    def __init__(
        self,
        *,
        client_id: str = "wealthgate",
        client_secret: str | None = "stub-secret",  # noqa: S107  (a stub issuer's)
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = _rsa_key("stub-1")
        self.other_key = _rsa_key("stub-1")  # same key id, different key: a forged signature
        self.person: dict[str, Any] = {
            "sub": "stub-user",
            "email": "someone@example.test",
            "email_verified": True,
        }
        self.tamper: str | None = None
        self.codes: dict[str, dict[str, str]] = {}
        self.token_requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StubIssuer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---- what the issuer says --------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def id_token(self, nonce: str, access_token: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.person,
        }
        key = self.key
        if self.tamper == "signature":
            key = self.other_key
        elif self.tamper == "nonce":
            claims["nonce"] = secrets.token_urlsafe(16)
        elif self.tamper == "audience":
            claims["aud"] = "some-other-client"
        elif self.tamper == "issuer":
            claims["iss"] = "https://issuer.example.test"
        elif self.tamper == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 600
        return jwt.encode({"alg": "RS256", "kid": key.kid or "stub-1"}, claims, key)

    # ---- HTTP ------------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self._json(200, issuer.discovery())
                elif url.path == "/jwks":
                    self._json(200, issuer.jwks())
                elif url.path == "/authorize":
                    self._authorize({k: v[0] for k, v in parse_qs(url.query).items()})
                else:
                    self._json(404, {"error": "not_found"})

            def _authorize(self, q: dict[str, str]) -> None:
                if q.get("client_id") != issuer.client_id or q.get("response_type") != "code":
                    self._json(400, {"error": "unauthorized_client"})
                    return
                if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                    self._json(400, {"error": "invalid_request", "error_description": "PKCE S256 required"})
                    return
                code = secrets.token_urlsafe(16)
                issuer.codes[code] = {
                    "nonce": q.get("nonce", ""),
                    "challenge": q["code_challenge"],
                    "redirect_uri": q.get("redirect_uri", ""),
                }
                target = (
                    f"{q.get('redirect_uri', '')}?{urlencode({'code': code, 'state': q.get('state', '')})}"
                )
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                if urlsplit(self.path).path != "/token":
                    self._json(404, {"error": "not_found"})
                    return
                issuer.token_requests += 1
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if not self._client_ok(form):
                    self._json(401, {"error": "invalid_client"})
                    return
                grant = issuer.codes.pop(form.get("code", ""), None)  # a code is good once
                if (
                    grant is None
                    or form.get("grant_type") != "authorization_code"
                    or form.get("redirect_uri") != grant["redirect_uri"]
                    or _s256(form.get("code_verifier", "")) != grant["challenge"]
                ):
                    self._json(400, {"error": "invalid_grant"})
                    return
                access = secrets.token_urlsafe(24)
                self._json(
                    200,
                    {
                        "access_token": access,
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": issuer.id_token(grant["nonce"], access),
                    },
                )

            def _client_ok(self, form: dict[str, str]) -> bool:
                header = self.headers.get("Authorization", "")
                if header.startswith("Basic "):
                    pair = base64.b64decode(header[6:]).decode()
                    client_id, _, secret = pair.partition(":")
                    return client_id == issuer.client_id and secret == issuer.client_secret
                return issuer.client_secret is None and form.get("client_id") == issuer.client_id

        return Handler
