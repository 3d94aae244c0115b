// Fuzzes RequestParser: no crash or UB, and any split of the bytes gives the same requests and errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.hpp"

namespace {

using turnpike::http::ParseError;
using turnpike::http::ParserLimits;
using turnpike::http::Request;
using turnpike::http::RequestParser;

struct Outcome {
  std::vector<Request> requests;
  ParseError error = ParseError::none;
  std::size_t consumed = 0;  // bytes taken by complete requests and the failed one
  bool operator==(const Outcome&) const = default;
};

// Parses pipelined requests from `data`, handing it to the parser in pieces of at most `piece` bytes.
Outcome parse_all(std::string_view data, std::size_t piece, ParserLimits limits) {
  Outcome outcome;
  RequestParser parser(limits);
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::string_view chunk = data.substr(pos, piece);
    const auto progress = parser.feed(chunk);
    if (progress.consumed > chunk.size()) std::abort();
    pos += progress.consumed;
    if (progress.status == RequestParser::Status::complete) {
      if (!parser.headers_complete()) std::abort();
      outcome.requests.push_back(parser.take_request());
      parser.reset();
    } else if (progress.status == RequestParser::Status::error) {
      if (parser.error() == ParseError::none) std::abort();
      outcome.error = parser.error();
      break;
    } else if (progress.consumed != chunk.size()) {
      std::abort();  // need_more takes everything it was given
    }
  }
  outcome.consumed = pos;
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte picks the piece size and small limits, so that the limit checks are reached too.
  const std::size_t piece = 1 + (data[0] & 0x0F);
  const ParserLimits limits = (data[0] & 0x10) != 0 ? ParserLimits{64, 32} : ParserLimits{};
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome whole = parse_all(text, text.size() + 1, limits);
  const Outcome split = parse_all(text, piece, limits);
  if (!(whole == split)) std::abort();
  for (const auto& request : whole.requests) {
    if (request.body.size() > limits.max_body_bytes) std::abort();
    if (turnpike::http::status_for(whole.error) == 0 && whole.error != ParseError::none) std::abort();
  }
  return 0;
}
