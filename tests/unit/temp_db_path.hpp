// A database path unique to the running test, removed (with its WAL files) before and after it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace turnpike {

class TempDbPath {
 public:
  TempDbPath() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (auto& c : name) c = c == '/' ? '_' : c;  // parameterised tests have slashes in their names
    path_ = testing::TempDir() + "turnpike_" + name + "_" + std::to_string(::getpid()) + ".db";
    remove_files();
  }
  ~TempDbPath() { remove_files(); }
  TempDbPath(const TempDbPath&) = delete;
  TempDbPath& operator=(const TempDbPath&) = delete;
  const std::string& path() const { return path_; }

 private:
  void remove_files() const {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((path_ + suffix).c_str());
  }
  std::string path_;
};

}  // namespace turnpike
