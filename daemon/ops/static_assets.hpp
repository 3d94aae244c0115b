// The demo page's files, compiled into the daemon and served under /demo/.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "http/response.hpp"

namespace turnpike {

struct StaticAsset {
  std::string_view name;  // file name, e.g. "index.html"
  std::string_view content;
};

std::span<const StaticAsset> demo_assets();

// GET /demo/... : the file, a redirect from /demo to /demo/, or nullopt when the path is not a demo file.
std::optional<http::Response> serve_demo(std::string_view raw_path, std::string_view normalized_path);

}  // namespace turnpike
