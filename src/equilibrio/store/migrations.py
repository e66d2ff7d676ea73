"""Versioned schema of the store. Append a migration; never edit one that has shipped."""

from __future__ import annotations

from typing import Final

from equilibrio.schema import KINDS

_KIND_LIST = ", ".join(f"'{kind}'" for kind in KINDS)

MIGRATIONS: Final[tuple[tuple[int, str, str], ...]] = (
    (
        1,
        "canonical tables: accounts, posts, conversions, ingest log",
        f"""
        CREATE TABLE settings (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
        CREATE TABLE brands (handle VARCHAR PRIMARY KEY, added_at TIMESTAMPTZ NOT NULL);
        CREATE TABLE accounts (
            account_id VARCHAR PRIMARY KEY,
            platform VARCHAR NOT NULL,
            handle VARCHAR,
            display_name VARCHAR,
            followers BIGINT,
            declared_brand BOOLEAN NOT NULL DEFAULT FALSE,
            is_brand BOOLEAN NOT NULL DEFAULT FALSE,
            last_ingest_id INTEGER
        );
        CREATE TABLE posts (
            post_id VARCHAR NOT NULL,
            platform VARCHAR NOT NULL,
            account_id VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            time_precision VARCHAR NOT NULL DEFAULT 'second',
            text VARCHAR,
            lang VARCHAR,
            kind VARCHAR NOT NULL CHECK (kind IN ({_KIND_LIST})),
            reply_to_id VARCHAR,
            conversation_id VARCHAR,
            is_brand BOOLEAN NOT NULL DEFAULT FALSE,
            url VARCHAR,
            paid BOOLEAN,
            likes BIGINT,
            shares BIGINT,
            comments BIGINT,
            impressions BIGINT,
            reach BIGINT,
            clicks BIGINT,
            meta JSON,
            first_ingest_id INTEGER NOT NULL,
            last_ingest_id INTEGER NOT NULL
        );
        CREATE TABLE conversions (
            conversion_id VARCHAR NOT NULL,
            occurred_at TIMESTAMPTZ NOT NULL,
            value DOUBLE,
            currency VARCHAR,
            utm_source VARCHAR,
            utm_medium VARCHAR,
            utm_campaign VARCHAR,
            utm_content VARCHAR,
            landing_url VARCHAR,
            post_id VARCHAR,
            last_ingest_id INTEGER NOT NULL
        );
        CREATE TABLE ingest_log (
            ingest_id INTEGER PRIMARY KEY,
            source VARCHAR NOT NULL,
            format VARCHAR NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ NOT NULL,
            rows_read BIGINT NOT NULL,
            rows_inserted BIGINT NOT NULL,
            rows_updated BIGINT NOT NULL,
            rows_unchanged BIGINT NOT NULL,
            rows_rejected BIGINT NOT NULL,
            notes VARCHAR[] NOT NULL
        );
        CREATE TABLE ingest_rejects (
            ingest_id INTEGER NOT NULL,
            source VARCHAR NOT NULL,
            location VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            excerpt VARCHAR
        );
        """,
    ),
    (
        2,
        "message understanding: language, intent with probabilities and cues, attributes, questions",
        """
        CREATE TABLE post_labels (
            post_id VARCHAR PRIMARY KEY,
            model_version VARCHAR NOT NULL,
            labelled_at TIMESTAMPTZ NOT NULL,
            lang VARCHAR NOT NULL,
            intent VARCHAR CHECK (intent IN ('promotion', 'conversation', 'value')),
            p_promotion DOUBLE,
            p_conversation DOUBLE,
            p_value DOUBLE,
            tier VARCHAR,
            cues VARCHAR[],
            attr_price BOOLEAN,
            attr_deal BOOLEAN,
            attr_contest BOOLEAN,
            attr_call_to_action BOOLEAN,
            attr_question BOOLEAN,
            attr_emotion BOOLEAN,
            attr_humour BOOLEAN,
            attr_link BOOLEAN,
            attr_brand_mention BOOLEAN,
            attr_holiday BOOLEAN,
            asks_question BOOLEAN,
            question_evidence VARCHAR
        );
        """,
    ),
    (
        3,
        "conversations: rebuilt threads and audience sentiment",
        """
        CREATE TABLE threads (
            post_id VARCHAR PRIMARY KEY,
            parent_id VARCHAR,
            conversation_id VARCHAR NOT NULL,
            link VARCHAR NOT NULL,
            depth INTEGER NOT NULL,
            author_key VARCHAR NOT NULL,
            addressee_key VARCHAR
        );
        CREATE TABLE post_sentiment (
            post_id VARCHAR PRIMARY KEY,
            model_version VARCHAR NOT NULL,
            labelled_at TIMESTAMPTZ NOT NULL,
            sentiment VARCHAR NOT NULL CHECK (sentiment IN ('negative', 'neutral', 'positive')),
            p_negative DOUBLE NOT NULL,
            p_neutral DOUBLE NOT NULL,
            p_positive DOUBLE NOT NULL
        );
        """,
    ),
    (
        4,
        "threads without a primary key: rebuilt whole each time, and the key made a 1M-row rebuild 30x slower",
        """
        CREATE TABLE threads_unkeyed (
            post_id VARCHAR NOT NULL,
            parent_id VARCHAR,
            conversation_id VARCHAR NOT NULL,
            link VARCHAR NOT NULL,
            depth INTEGER NOT NULL,
            author_key VARCHAR NOT NULL,
            addressee_key VARCHAR
        );
        INSERT INTO threads_unkeyed SELECT * FROM threads;
        DROP TABLE threads;
        ALTER TABLE threads_unkeyed RENAME TO threads;
        """,
    ),
    (
        5,
        "threads keep the accounts each message mentions, so the network does not parse every text again",
        """
        ALTER TABLE threads ADD COLUMN mentioned_keys VARCHAR[];
        DELETE FROM threads; -- rebuilt on next use, with the new column filled
        """,
    ),
    (
        6,
        "posts keep what a quote quotes (post and account), so quotes become network edges",
        """
        ALTER TABLE posts ADD COLUMN quoted_id VARCHAR;
        ALTER TABLE posts ADD COLUMN quoted_handle VARCHAR;
        """,
    ),
    (
        7,
        "threads carry the post columns the conversation and network queries read, so those need not join posts",
        """
        ALTER TABLE threads ADD COLUMN platform VARCHAR;
        ALTER TABLE threads ADD COLUMN account_id VARCHAR;
        ALTER TABLE threads ADD COLUMN created_at TIMESTAMPTZ;
        ALTER TABLE threads ADD COLUMN time_precision VARCHAR;
        ALTER TABLE threads ADD COLUMN kind VARCHAR;
        ALTER TABLE threads ADD COLUMN is_brand BOOLEAN;
        -- rebuilt on next use with the new columns filled; forgetting what it was built from
        -- makes sure of that (migration 5 emptied the table but kept the record)
        DELETE FROM threads;
        DELETE FROM settings WHERE key = 'threads_built_for';
        """,
    ),
    (
        8,
        "post texts stored with zstd: a fifth smaller store and a faster ingest than the analysed default",
        # DuckDB sets a column's compression only when its table is created, so posts is copied
        # into a new table with the same columns, in the same order. Measured on 1M realistic
        # posts: writing them took 1.23 s instead of 1.50 s, and the file was 93 MB instead of 118 MB.
        f"""
        CREATE TABLE posts_zstd (
            post_id VARCHAR NOT NULL,
            platform VARCHAR NOT NULL,
            account_id VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            time_precision VARCHAR NOT NULL DEFAULT 'second',
            text VARCHAR USING COMPRESSION zstd,
            lang VARCHAR,
            kind VARCHAR NOT NULL CHECK (kind IN ({_KIND_LIST})),
            reply_to_id VARCHAR,
            conversation_id VARCHAR,
            is_brand BOOLEAN NOT NULL DEFAULT FALSE,
            url VARCHAR,
            paid BOOLEAN,
            likes BIGINT,
            shares BIGINT,
            comments BIGINT,
            impressions BIGINT,
            reach BIGINT,
            clicks BIGINT,
            meta JSON,
            first_ingest_id INTEGER NOT NULL,
            last_ingest_id INTEGER NOT NULL,
            quoted_id VARCHAR,
            quoted_handle VARCHAR
        );
        INSERT INTO posts_zstd SELECT * FROM posts;
        DROP TABLE posts;
        ALTER TABLE posts_zstd RENAME TO posts;
        """,
    ),
    (
        9,
        "accounts without a primary key: every ingest groups and merges them, and checks that they stay unique",
        # The key's index cost 1.1-1.2 s of a 10M-post ingest (1M accounts), a twentieth of it; the
        # merge reaches every account through a hash join, never through the index.
        """
        CREATE TABLE accounts_unkeyed (
            account_id VARCHAR NOT NULL,
            platform VARCHAR NOT NULL,
            handle VARCHAR,
            display_name VARCHAR,
            followers BIGINT,
            declared_brand BOOLEAN NOT NULL DEFAULT FALSE,
            is_brand BOOLEAN NOT NULL DEFAULT FALSE,
            last_ingest_id INTEGER
        );
        INSERT INTO accounts_unkeyed SELECT * FROM accounts;
        DROP TABLE accounts;
        ALTER TABLE accounts_unkeyed RENAME TO accounts;
        """,
    ),
    (
        10,
        "intent_examples: the brand's own labelled posts, which adapt the intent model to it",
        """
        CREATE TABLE intent_examples (
            text VARCHAR PRIMARY KEY,
            lang VARCHAR NOT NULL,
            label VARCHAR NOT NULL CHECK (label IN ('promotion', 'conversation', 'value')),
            source VARCHAR NOT NULL,
            added_at TIMESTAMPTZ NOT NULL
        );
        """,
    ),
)

CURRENT_VERSION: Final = MIGRATIONS[-1][0]
