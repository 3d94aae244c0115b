// Identifiers from OpenSSL's CSPRNG: room ids (hex) and client ids (UUID v4).
#pragma once

#include <cstddef>
#include <string>

namespace turnpike {

// 2*bytes lowercase hex characters.
std::string random_hex(std::size_t bytes);
// Lowercase RFC 4122 version 4 UUID.
std::string random_uuid_v4();

}  // namespace turnpike
