// coturn-compatible credential math (long-term hmackey, TURN REST password) and the name check for coturn.
#pragma once

#include <string>
#include <string_view>

namespace turnpike::turn_auth {

// The value coturn expects in turnusers_lt.hmackey for the long-term mechanism: MD5("user:realm:password") as
// 32 lowercase hex digits, without a "0x" prefix (what `turnadmin -a` stores). The realm must be the one
// coturn sends to clients. Returns an empty string only if OpenSSL cannot provide MD5 (e.g. a FIPS-only
// provider); callers must treat that as an error and never store it.
std::string lt_hmackey(std::string_view user, std::string_view realm, std::string_view password);

// The TURN REST API password coturn derives for `username` (`<expiry-unix-seconds>:<userid>`) with
// use-auth-secret: base64(HMAC-SHA1(secret, username)), standard alphabet with padding, 28 characters.
// Returns an empty string only if OpenSSL fails.
std::string rest_password(std::string_view secret, std::string_view username);

// True if `name` may be handed to coturn as a user name, realm or CLI argument: 1 to 512 characters, each one
// of [A-Za-z0-9._:-]. coturn splices such names into SQL text and CLI commands without quoting, so anything
// else (spaces, quotes, backslashes, control characters, '*', non-ASCII) is refused.
bool is_coturn_safe_name(std::string_view name);

}  // namespace turnpike::turn_auth
