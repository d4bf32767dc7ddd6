-- storage-postgres, schema 1: everything the server keeps, shared by every server of the domain.
-- Times are milliseconds since the Unix epoch; JSON and entries are stored as the plugin encodes
-- them (see Entries.java); message ids are their 32 bytes.

-- The keys bound to each address, oldest first (bound).
CREATE TABLE identities (
  key bytea PRIMARY KEY,
  address text COLLATE "C" NOT NULL,
  bound bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX identities_by_address ON identities (address, bound);

-- Messages accepted, with the fields of their answer: a resend gets the same answer.
CREATE TABLE accepted (
  id bytea PRIMARY KEY,
  accepted_at bigint NOT NULL,
  answer bytea NOT NULL
);
CREATE INDEX accepted_by_time ON accepted (accepted_at);

-- The cursor of the newest entry ever appended to each mailbox: advanced under its row lock, so
-- that cursors are gapless whichever server appends; never deleted, so never reused.
CREATE TABLE mailboxes (
  address text COLLATE "C" PRIMARY KEY,
  last_cursor bigint NOT NULL
);

-- A message kept once for the several entries of one change that carry it (a group message: the
-- thread's entry and each member's), with how many entries refer to it; it goes with the last.
CREATE TABLE messages (
  id bytea PRIMARY KEY,
  entry bytea NOT NULL,
  refs bigint NOT NULL CHECK (refs >= 0)
);

-- Mailbox entries: the entry whole, or a reference to a message kept once.
CREATE TABLE mailbox_entries (
  address text COLLATE "C" NOT NULL,
  cursor bigint NOT NULL,
  received_at bigint NOT NULL,
  entry bytea,
  message_id bytea REFERENCES messages (id),
  PRIMARY KEY (address, cursor),
  CHECK ((entry IS NULL) <> (message_id IS NULL))
);
CREATE INDEX mailbox_entries_by_time ON mailbox_entries (received_at);

-- The plugins' values and kept entries. A key is stored as its UTF-16 code units, big-endian:
-- bytea compares bytewise, which is then exactly Java's String.compareTo, the order the storage
-- SPI promises. (Text under COLLATE "C" compares UTF-8 bytes, code point order, which differs for
-- characters above U+FFFF against those from U+E000 to U+FFFF.)
CREATE TABLE key_values (
  space text COLLATE "C" NOT NULL,
  key bytea NOT NULL,
  value bytea,
  entry bytea,
  message_id bytea REFERENCES messages (id),
  PRIMARY KEY (space, key),
  CHECK (num_nonnulls(value, entry, message_id) = 1)
);
