-- vdpd schema, version 5: OAuth2 tokens for mailboxes that want them (Microsoft 365, Google).

-- One row per OAuth2 client (token URL and client id). refresh_token: the one to use next (providers that
-- rotate refresh tokens make the configured one useless after its first use). source_sha256: the hash of the
-- configured refresh token this row descends from: when an admin puts a new one in place, it wins.
-- access_token/expires_at: the current access token, shared by every vdpd process on this store.
CREATE TABLE oauth2_tokens (
    name TEXT PRIMARY KEY,
    refresh_token TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    access_token TEXT NOT NULL DEFAULT '',
    expires_at INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
) STRICT;
