// Renders the turnserver.conf that matches a turnpike.conf, so coturn and turnpiked share one source of
// truth.
#pragma once

#include <string>
#include <string_view>

#include "core/config.hpp"

namespace turnpike {

std::string render_coturn_config(const Config& config, std::string_view source_path);

}  // namespace turnpike
