-- Sign-in with an identity provider (Google, GitHub). An account made through a provider has no
-- password until its owner sets one, so the hash becomes optional; password sign-in refuses such
-- an account like a wrong password.
ALTER TABLE users MODIFY password_hash VARCHAR(255) NULL;

-- Identities linked to an account, keyed by the provider's stable subject (never by email: an
-- address can change hands). One identity per provider per account.
CREATE TABLE user_identities (
    provider   VARCHAR(16)  NOT NULL,
    subject    VARCHAR(255) NOT NULL COLLATE utf8mb4_bin,
    user_uuid  CHAR(36)     NOT NULL,
    email      VARCHAR(254) NULL,
    created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (provider, subject),
    CONSTRAINT uq_identities_user_provider UNIQUE (user_uuid, provider),
    CONSTRAINT fk_identities_user FOREIGN KEY (user_uuid) REFERENCES users (uuid) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
