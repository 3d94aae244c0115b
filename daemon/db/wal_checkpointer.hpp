// WalCheckpointer: copies the WAL back into the database file on a thread of its own, so that no event-loop
// turn waits for a checkpoint.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.hpp"
#include "db/sqlite_handles.hpp"

namespace turnpike {

// Owns a second connection to the file and a thread that runs a PASSIVE checkpoint on it whenever request()
// was called since the last one. A passive checkpoint takes no lock that the writer needs: commits go on
// meanwhile, and what they add is copied by the next checkpoint. request() may be called from the owning
// thread at any time and only signals; the destructor lets a running checkpoint finish and joins.
class WalCheckpointer {
 public:
  static Result<std::unique_ptr<WalCheckpointer>> start(const std::string& path);
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  void request();
  // Checkpoint passes finished so far.
  std::uint64_t completed() const;

 private:
  explicit WalCheckpointer(SqliteDb db);
  void run();

  SqliteDb db_;  // used only by thread_
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::uint64_t completed_ = 0;
  std::thread thread_;  // last: started when everything above exists
};

}  // namespace turnpike
