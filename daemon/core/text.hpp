// Small string helpers shared across the daemon.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace turnpike {

std::string_view trim(std::string_view s);
std::vector<std::string_view> split_trimmed(std::string_view s, char separator);
std::string join(const std::vector<std::string>& items, std::string_view separator);
std::string to_lower(std::string_view s);

}  // namespace turnpike
