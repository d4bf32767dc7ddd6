-- storage-postgres, schema 2: messages of ephemeral types across the servers (delivered live, never
-- stored), sent on the notification channel esmp_live.

-- One too large for a notification's payload: its sealed bytes, for the other servers to read once
-- told its id. Deleted a minute after (by its sender, or by retention). UNLOGGED: not written to
-- the WAL, so neither crash-safe nor replicated, as befits what is never stored.
CREATE UNLOGGED TABLE live_messages (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  sealed bytea NOT NULL
);
CREATE INDEX live_messages_by_time ON live_messages (created_at);

-- The key (AES-256) that seals what the servers send each other on esmp_live: any role that may
-- connect to the database may LISTEN and NOTIFY there, but only the roles that may read this table
-- (those that may read the messages) can read or forge what is sent. Made by the first server to
-- start, with the JVM's SecureRandom.
CREATE TABLE live_key (
  id integer PRIMARY KEY CHECK (id = 1),
  key bytea NOT NULL CHECK (length(key) = 32)
);
