// Incremental, I/O-free HTTP/1.1 request parser (RFC 9112) with header and body size limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/request.hpp"

namespace turnpike::http {

struct ParserLimits {
  // Request line plus header fields, line endings and the terminating empty line included. The same budget
  // applies separately to the chunked framing metadata of one request (chunk extensions plus trailer
  // section).
  std::size_t max_header_bytes = 8192;
  // De-chunked body (or Content-Length).
  std::size_t max_body_bytes = 16384;
};

// Requests whose path starts with `path` (when not empty) carry bodies of up to `max_body_bytes` instead of
// ParserLimits::max_body_bytes: the Socket.IO long-polling POSTs, up to socketio.max_payload_bytes.
struct LongBodyRule {
  std::string path;
  std::size_t max_body_bytes = 0;
};

enum class ParseError {
  none,
  bad_request,
  headers_too_large,
  body_too_large,
  version_not_supported,
  not_implemented
};

// 400, 431, 413, 505, 501; 0 for ParseError::none.
int status_for(ParseError error);
// "bad_request", "headers_too_large", "body_too_large", "http_version_not_supported", "not_implemented";
// empty for ParseError::none.
std::string_view error_code_for(ParseError error);

// Bytes in, one Request out. Any split of the input into pieces gives the same result; memory stays bounded
// by the limits and every input byte is examined a bounded number of times.
//
// Accepted syntax (strict, RFC 9112):
// - lines end in CRLF or LF; empty lines before the request line are skipped (more than max_header_bytes
//   of them is bad_request);
// - request line `token SP target SP HTTP/1.x`; target is origin-form ("/..."), "*" (OPTIONS only) or
//   absolute-form (http/https with a non-empty authority); no CTL, SP or '#' in it;
// - field lines `token ":" OWS value OWS`; no obs-fold, no CTL other than HTAB in values;
// - body framed by Transfer-Encoding: chunked (the only coding; chunk extensions ignored, trailer fields
//   checked and dropped) or by Content-Length (digits; repeated values must be identical); neither means no
//   body. Both at once, or Transfer-Encoding on an HTTP/1.0 request, is bad_request.
class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits);

  enum class Status { need_more, complete, error };
  struct Progress {
    // need_more: all of data; complete: bytes up to the end of the request; error: where parsing stopped
    // (the connection is to be closed).
    std::size_t consumed;
    Status status;
  };

  // Consumes bytes of at most ONE request and stops right after it, so that pipelined bytes stay with the
  // caller. After complete or error, returns {0, same status} until reset().
  Progress feed(std::string_view data);

  // True once the header block of the current request has been parsed (stays true if the body then fails).
  bool headers_complete() const { return headers_complete_; }
  // True while a request has started (its request line began) and has not completed or failed. Empty lines
  // before a request do not count.
  bool in_progress() const;
  // Valid once headers_complete().
  const Request& request() const { return request_; }
  // Moves the request out after Status::complete; call reset() afterwards.
  Request take_request();
  ParseError error() const { return error_; }
  // Ready for the next request; keeps the limits.
  void reset();
  // Takes effect for the checks made from now on.
  void set_limits(ParserLimits limits) { limits_ = limits; }
  void set_long_body_rule(LongBodyRule rule) { long_body_ = std::move(rule); }

 private:
  // The body limit of the request being parsed (see LongBodyRule).
  std::size_t body_limit() const;
  enum class State {
    start,          // skipping empty lines before the request line
    request_line,   // collecting the request line
    header_line,    // collecting header field lines
    body_length,    // Content-Length body
    chunk_size,     // hex digits of a chunk-size line
    chunk_ext,      // rest of a chunk-size line (BWS, extensions)
    chunk_size_lf,  // LF after the CR that ends a chunk-size line
    chunk_data,     // chunk payload
    chunk_data_cr,  // CR (or LF) after chunk payload
    chunk_data_lf,  // LF after that CR
    trailer_line,   // collecting trailer field lines
    complete,
    error,
  };

  std::size_t step_start(std::string_view data, std::size_t pos);
  std::size_t step_request_line(std::string_view data, std::size_t pos);
  std::size_t step_header_line(std::string_view data, std::size_t pos);
  std::size_t step_body_length(std::string_view data, std::size_t pos);
  std::size_t step_chunk_size(std::string_view data, std::size_t pos);
  std::size_t step_chunk_ext(std::string_view data, std::size_t pos);
  std::size_t step_chunk_data(std::string_view data, std::size_t pos);
  std::size_t step_trailer_line(std::string_view data, std::size_t pos);

  // Appends bytes up to and including the next LF to line_ (without the LF), counting them in `counter`.
  // Returns true when a whole line is in line_ (a trailing CR removed). Fails with `over` once `counter`
  // passes `limit`.
  bool take_line(std::string_view data, std::size_t& pos, std::size_t& counter, std::size_t limit,
                 ParseError over);
  ParseError parse_request_line(std::string_view line);
  void finish_headers();
  void finish_chunk_size_line();
  void fail(ParseError error);

  ParserLimits limits_;
  LongBodyRule long_body_;
  State state_ = State::start;
  ParseError error_ = ParseError::none;
  Request request_;
  std::string line_;         // the line being collected (bounded by max_header_bytes)
  bool pending_cr_ = false;  // start state: CR seen, LF expected
  bool headers_complete_ = false;
  bool ext_started_ = false;           // chunk_ext state: ';' seen
  std::size_t leading_bytes_ = 0;      // empty-line bytes skipped before the request line
  std::size_t header_bytes_ = 0;       // request line + header section bytes
  std::size_t meta_bytes_ = 0;         // chunk extension + trailer section bytes
  std::size_t body_remaining_ = 0;     // Content-Length bytes still expected
  std::uint64_t chunk_size_ = 0;       // value of the chunk-size being read
  std::size_t chunk_digits_ = 0;       // hex digits of the chunk-size being read
  std::uint64_t chunk_remaining_ = 0;  // payload bytes left in the current chunk
};

}  // namespace turnpike::http
