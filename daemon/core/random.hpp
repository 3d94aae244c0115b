// Identifiers from OpenSSL's CSPRNG: room ids (hex), client ids (UUID v4), Engine.IO and Socket.IO ids.
#pragma once

#include <cstddef>
#include <string>

namespace turnpike {

// 2*bytes lowercase hex characters.
std::string random_hex(std::size_t bytes);
// base64url without padding (A-Z a-z 0-9 - _): 15 bytes give 20 characters, as Engine.IO's ids have.
std::string random_base64url(std::size_t bytes);
// Lowercase RFC 4122 version 4 UUID.
std::string random_uuid_v4();

}  // namespace turnpike
