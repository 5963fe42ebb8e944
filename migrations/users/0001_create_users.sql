-- Accounts. Usernames are unique regardless of case: the column's collation is case-insensitive,
-- so 'Alice' and 'alice' collide on uq_users_username. Emails are stored lower-cased.
CREATE TABLE users (
    uuid            CHAR(36)      NOT NULL,
    username        VARCHAR(32)   NOT NULL COLLATE utf8mb4_unicode_ci,
    email           VARCHAR(254)  NOT NULL COLLATE utf8mb4_unicode_ci,
    bio             VARCHAR(500)  NULL,
    password_hash   VARCHAR(255)  NOT NULL,
    profile_picture VARCHAR(2048) NULL,
    created_at      DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at      DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (uuid),
    CONSTRAINT uq_users_username UNIQUE (username),
    CONSTRAINT uq_users_email UNIQUE (email)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Transactional outbox: events written in the same transaction as the change they describe,
-- then appended to the Redis event stream by a relay, so no event is lost if Redis is down.
CREATE TABLE outbox_events (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_type  VARCHAR(64)     NOT NULL,
    payload     TEXT            NOT NULL,
    created_at  DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
