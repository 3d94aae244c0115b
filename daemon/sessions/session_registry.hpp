// The sessions of the session dialect (seed 002): which sockets are in which session, in join order, with the
// user each socket speaks for. Pure bookkeeping; the dialect decides what to send.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace turnpike {

class SessionRegistry {
 public:
  struct Member {
    std::string socket_id;
    std::string user_id;
  };

  // Adds a socket that is in no session; false (nothing changes) when the session already has max_members.
  bool join(const std::string& session_id, Member member, std::size_t max_members);
  // Removes a socket from its session; the session it left, or nullopt. An empty session is forgotten.
  std::optional<std::string> leave(const std::string& socket_id);

  // The session a socket is in, or nullptr.
  const std::string* session_of(const std::string& socket_id) const;
  // Members in join order; empty when the session does not exist.
  const std::vector<Member>& members(const std::string& session_id) const;
  std::size_t session_count() const { return sessions_.size(); }
  std::size_t member_count() const { return session_of_.size(); }

 private:
  std::unordered_map<std::string, std::vector<Member>> sessions_;
  std::unordered_map<std::string, std::string> session_of_;  // socket id -> session id
};

}  // namespace turnpike
