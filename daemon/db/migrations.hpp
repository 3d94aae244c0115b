// Numbered schema migrations (sql/NNN_name.sql, embedded at build time), tracked by PRAGMA user_version.
#pragma once

#include <sqlite3.h>

#include <span>
#include <string_view>

#include "core/result.hpp"

namespace turnpike {

struct Migration {
  int version;            // the file's leading number; applying it sets user_version to this value
  std::string_view name;  // file name without ".sql", e.g. "001_pairing"
  std::string_view sql;   // the file's text: plain SQL without BEGIN/COMMIT
};

// The migrations compiled into this binary, sorted by version. Defined in a source file that the build
// generates from sql/*.sql (daemon/db/embed_sql.cmake).
std::span<const Migration> embedded_migrations();

// PRAGMA user_version of the main database.
Result<int> read_user_version(sqlite3* db);

// Brings the database up to the last migration: every migration newer than user_version runs, in order,
// inside ONE BEGIN IMMEDIATE transaction, and migration N sets user_version = N. Nothing changes if any of
// them fails. A database whose user_version is newer than the last migration was written by a newer release:
// refused. The list must be numbered 1, 2, 3, ... without gaps; migration texts may not contain transaction
// statements.
Result<void> apply_migrations(sqlite3* db, std::span<const Migration> migrations);

}  // namespace turnpike
