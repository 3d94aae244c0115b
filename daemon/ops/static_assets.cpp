// Serving the embedded demo page.
#include "ops/static_assets.hpp"

#include <string>

namespace turnpike {
namespace {

std::string content_type_for(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js") || name.ends_with(".mjs")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  if (name.ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

}  // namespace

std::optional<http::Response> serve_demo(std::string_view raw_path, std::string_view normalized_path) {
  constexpr std::string_view kPrefix = "/demo";
  if (normalized_path != kPrefix && !normalized_path.starts_with("/demo/")) return std::nullopt;
  if (normalized_path == kPrefix && !raw_path.ends_with("/")) {
    // Relative links in the page need the trailing slash.
    return http::Response::empty(301).with_header("Location", "/demo/");
  }
  std::string_view name =
      normalized_path == kPrefix ? "index.html" : normalized_path.substr(kPrefix.size() + 1);
  for (const auto& asset : demo_assets()) {
    if (asset.name == name) {
      return http::Response::text(200, std::string(asset.content), content_type_for(name))
          .with_header("X-Content-Type-Options", "nosniff")
          .with_header("Cache-Control", "no-cache");
    }
  }
  return std::nullopt;
}

}  // namespace turnpike
