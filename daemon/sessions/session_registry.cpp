// The sessions of the session dialect.
#include "sessions/session_registry.hpp"

#include <algorithm>

namespace turnpike {

bool SessionRegistry::join(const std::string& session_id, Member member, std::size_t max_members) {
  if (session_of_.contains(member.socket_id)) return false;
  auto& members = sessions_[session_id];
  if (members.size() >= max_members) {
    if (members.empty()) sessions_.erase(session_id);
    return false;
  }
  session_of_.emplace(member.socket_id, session_id);
  members.push_back(std::move(member));
  return true;
}

std::optional<std::string> SessionRegistry::leave(const std::string& socket_id) {
  auto it = session_of_.find(socket_id);
  if (it == session_of_.end()) return std::nullopt;
  std::string session_id = std::move(it->second);
  session_of_.erase(it);
  auto session = sessions_.find(session_id);
  auto& members = session->second;
  members.erase(std::find_if(members.begin(), members.end(),
                             [&](const Member& member) { return member.socket_id == socket_id; }));
  if (members.empty()) sessions_.erase(session);
  return session_id;
}

const std::string* SessionRegistry::session_of(const std::string& socket_id) const {
  auto it = session_of_.find(socket_id);
  return it == session_of_.end() ? nullptr : &it->second;
}

const std::vector<SessionRegistry::Member>& SessionRegistry::members(const std::string& session_id) const {
  static const std::vector<Member> kNone;
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? kNone : it->second;
}

}  // namespace turnpike
