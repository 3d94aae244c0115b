// Unit tests for the incremental HTTP/1.1 request parser and the Request accessors.
#include "http/request_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace turnpike::http {

// Readable failure messages for EXPECT_EQ on requests.
void PrintTo(const Request& r, std::ostream* os) {
  *os << "{method=" << ::testing::PrintToString(r.method) << " target=" << ::testing::PrintToString(r.target)
      << " path=" << ::testing::PrintToString(r.path) << " query=" << ::testing::PrintToString(r.query)
      << " version_minor=" << r.version_minor << " headers=[";
  for (const Header& h : r.headers) {
    *os << ::testing::PrintToString(h.name) << ":" << ::testing::PrintToString(h.value) << " ";
  }
  *os << "] body=" << ::testing::PrintToString(r.body) << "}";
}

void PrintTo(ParseError e, std::ostream* os) {
  *os << "ParseError(" << error_code_for(e) << ")";
}

namespace {

using Status = RequestParser::Status;

const char* status_name(Status s) {
  switch (s) {
    case Status::need_more:
      return "need_more";
    case Status::complete:
      return "complete";
    case Status::error:
      return "error";
  }
  return "?";
}

// Everything observable about parsing one input: every request completed, the status of the last feed,
// the error, and the parser's state flags at the end.
struct Outcome {
  std::vector<Request> requests;
  Status status = Status::need_more;
  ParseError error = ParseError::none;
  bool in_progress = false;
  bool headers_complete = false;

  friend bool operator==(const Outcome&, const Outcome&) = default;
};

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << "{status=" << status_name(o.status) << " error=" << error_code_for(o.error)
      << " in_progress=" << o.in_progress << " headers_complete=" << o.headers_complete << " requests=[";
  for (const Request& r : o.requests) {
    PrintTo(r, os);
    *os << " ";
  }
  *os << "]}";
}

// Feeds the pieces in order, the way a connection would: a completed request is taken, the parser reset and
// the unconsumed rest of the piece fed again.
Outcome parse_pieces(const std::vector<std::string_view>& pieces, ParserLimits limits) {
  RequestParser parser(limits);
  Outcome out;
  for (std::string_view piece : pieces) {
    while (true) {
      const RequestParser::Progress p = parser.feed(piece);
      EXPECT_LE(p.consumed, piece.size());
      out.status = p.status;
      if (p.status == Status::error) {
        out.error = parser.error();
        EXPECT_NE(out.error, ParseError::none);
        out.in_progress = parser.in_progress();
        out.headers_complete = parser.headers_complete();
        return out;
      }
      if (p.status == Status::need_more) {
        EXPECT_EQ(p.consumed, piece.size()) << "need_more must consume the whole piece";
        break;
      }
      EXPECT_EQ(parser.error(), ParseError::none);
      EXPECT_TRUE(parser.headers_complete());
      out.requests.push_back(parser.take_request());
      parser.reset();
      piece.remove_prefix(p.consumed);
      if (piece.empty()) break;
    }
  }
  out.in_progress = parser.in_progress();
  out.headers_complete = parser.headers_complete();
  return out;
}

Outcome parse_whole(std::string_view input, ParserLimits limits) {
  if (input.empty()) return parse_pieces({}, limits);
  return parse_pieces({input}, limits);
}

Outcome parse_bytewise(std::string_view input, ParserLimits limits) {
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < input.size(); ++i) pieces.push_back(input.substr(i, 1));
  return parse_pieces(pieces, limits);
}

Outcome parse_random_split(std::string_view input, ParserLimits limits, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::string_view> pieces;
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::uniform_int_distribution<std::size_t> len(1, std::max<std::size_t>(1, (input.size() - pos + 1) / 2));
    const std::size_t n = std::min(len(rng), input.size() - pos);
    pieces.push_back(input.substr(pos, n));
    pos += n;
  }
  return parse_pieces(pieces, limits);
}

struct Case {
  std::string name;
  std::string input;
  Status status = Status::complete;  // status of the last feed
  ParseError error = ParseError::none;
  std::size_t requests = 1;  // number of completed requests
  std::function<void(const std::vector<Request>&)> check = nullptr;
  ParserLimits limits = {};
  bool in_progress = false;  // at the end (only checked for need_more)
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name << " " << ::testing::PrintToString(c.input);
}

// A GET whose request line + header section (final empty line included) is exactly `total` bytes long.
std::string request_with_header_block_of(std::size_t total, std::string_view eol = "\r\n") {
  const std::string head = "GET / HTTP/1.1" + std::string(eol) + "X-Pad: ";
  const std::size_t fixed = head.size() + 2 * eol.size();
  std::string out = head + std::string(total - fixed, 'p') + std::string(eol) + std::string(eol);
  EXPECT_EQ(out.size(), total);
  return out;
}

std::string post_with_body(std::size_t n) {
  return "POST /api/rooms HTTP/1.1\r\nContent-Length: " + std::to_string(n) + "\r\n\r\n" +
         std::string(n, 'b');
}

std::string chunked_post(std::string_view chunks) {
  return "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(chunks);
}

std::vector<Case> valid_cases() {
  return {
      {.name = "simple_get",
       .input = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             const Request& r = rs.at(0);
             EXPECT_EQ(r.method, "GET");
             EXPECT_EQ(r.target, "/");
             EXPECT_EQ(r.path, "/");
             EXPECT_EQ(r.query, "");
             EXPECT_EQ(r.version_minor, 1);
             EXPECT_EQ(r.headers, (std::vector<Header>{{"Host", "example.com"}}));
             EXPECT_EQ(r.body, "");
             EXPECT_TRUE(r.keep_alive());
           }},
      {.name = "get_without_headers",
       .input = "GET /x HTTP/1.1\r\n\r\n",
       .check = [](const std::vector<Request>& rs) { EXPECT_TRUE(rs.at(0).headers.empty()); }},
      {.name = "target_with_query_and_ows_trimmed",
       .input = "GET /api/rooms?roomid=abc&x=1 HTTP/1.1\r\nHost:   h  \t\r\nX-Tab:\tin\tside\t\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             const Request& r = rs.at(0);
             EXPECT_EQ(r.target, "/api/rooms?roomid=abc&x=1");
             EXPECT_EQ(r.path, "/api/rooms");
             EXPECT_EQ(r.query, "roomid=abc&x=1");
             EXPECT_EQ(r.headers, (std::vector<Header>{{"Host", "h"}, {"X-Tab", "in\tside"}}));
             EXPECT_EQ(r.query_param("roomid"), "abc");
           }},
      {.name = "question_marks_after_the_first_stay_in_query",
       .input = "GET /a?b?c=d HTTP/1.1\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).path, "/a");
             EXPECT_EQ(rs.at(0).query, "b?c=d");
           }},
      {.name = "empty_query",
       .input = "GET /a? HTTP/1.1\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).path, "/a");
             EXPECT_EQ(rs.at(0).query, "");
           }},
      {.name = "header_names_and_order_kept_values_may_be_empty_or_obs_text",
       .input = "GET / HTTP/1.1\r\nx-LOWER: 1\r\nX-Empty:\r\nX-Utf8: caf\xC3\xA9\r\nx-lower: 2\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             const Request& r = rs.at(0);
             EXPECT_EQ(r.headers,
                       (std::vector<Header>{
                           {"x-LOWER", "1"}, {"X-Empty", ""}, {"X-Utf8", "caf\xC3\xA9"}, {"x-lower", "2"}}));
             ASSERT_NE(r.header("X-Lower"), nullptr);
             EXPECT_EQ(*r.header("X-Lower"), "1");
           }},
      {.name = "lowercase_method_is_a_token",
       .input = "get / HTTP/1.1\r\n\r\n",
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).method, "get"); }},
      {.name = "post_with_content_length",
       .input = "POST /api/rooms HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
                "{\"joinid\":1}\n",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).method, "POST");
             EXPECT_EQ(rs.at(0).body, "{\"joinid\":1}\n");
           }},
      {.name = "content_length_zero",
       .input = "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).body, ""); }},
      {.name = "content_length_leading_zeros",
       .input = "POST / HTTP/1.1\r\nContent-Length: 003\r\n\r\nabc",
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).body, "abc"); }},
      {.name = "identical_duplicate_content_lengths",
       .input = "POST / HTTP/1.1\r\ncontent-length: 5\r\nContent-Length: 5 , 5\r\n\r\nhello",
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).body, "hello"); }},
      {.name = "bare_lf_line_endings",
       .input = "POST /lf HTTP/1.1\nHost: a\nContent-Length: 2\n\nok",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).path, "/lf");
             EXPECT_EQ(rs.at(0).headers, (std::vector<Header>{{"Host", "a"}, {"Content-Length", "2"}}));
             EXPECT_EQ(rs.at(0).body, "ok");
           }},
      {.name = "mixed_line_endings",
       .input = "GET / HTTP/1.1\nA: 1\r\nB: 2\n\r\n",
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).headers.size(), 2u); }},
      {.name = "leading_empty_lines_skipped",
       .input = "\r\n\n\r\nGET /after HTTP/1.1\r\n\r\n",
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).path, "/after"); }},
      {.name = "chunked_with_extensions_and_trailers",
       .input = chunked_post("5;name=value\r\nhello\r\n6 ; a=b;c=\"q\"\r\n world\r\n0;last\r\n"
                             "Trailer-A: x\r\nTrailer-B: y\r\n\r\n"),
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).body, "hello world");
             EXPECT_EQ(rs.at(0).header("Trailer-A"), nullptr) << "trailers are dropped";
           }},
      {.name = "chunked_hex_sizes_and_leading_zeros",
       .input = chunked_post("0A\r\n0123456789\r\n00000000000000f\r\nabcdefghijklmno\r\n0\r\n\r\n"),
       .check =
           [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).body, "0123456789abcdefghijklmno"); }},
      {.name = "chunked_bare_lf_and_trailing_whitespace",
       .input = chunked_post("3 \n"
                             "abc\n"
                             "0\n"
                             "\n"),
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).body, "abc"); }},
      {.name = "chunked_payload_may_contain_crlf",
       .input = chunked_post("4\r\n\r\n\r\n\r\n0\r\n\r\n"),
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).body, "\r\n\r\n"); }},
      {.name = "chunked_empty_body",
       .input = chunked_post("0\r\n\r\n"),
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).body, ""); }},
      {.name = "transfer_encoding_case_and_list_forms",
       .input = "POST / HTTP/1.1\r\nTransfer-Encoding: , Chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n",
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).body, "z"); }},
      {.name = "pipelined_two_requests",
       .input = "GET /one HTTP/1.1\r\nHost: a\r\n\r\nPOST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz",
       .requests = 2,
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).path, "/one");
             EXPECT_EQ(rs.at(0).body, "");
             EXPECT_EQ(rs.at(1).path, "/two");
             EXPECT_EQ(rs.at(1).body, "xyz");
           }},
      {.name = "pipelined_chunked_then_get_with_stray_crlf_between",
       .input = chunked_post("2\r\nhi\r\n0\r\n\r\n") + "\r\nGET /next HTTP/1.1\r\n\r\n",
       .requests = 2,
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).body, "hi");
             EXPECT_EQ(rs.at(1).path, "/next");
           }},
      {.name = "pipelined_three_with_partial_fourth",
       .input = "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\nGET /4 HT",
       .status = Status::need_more,
       .requests = 3,
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(2).path, "/3"); },
       .in_progress = true},
      {.name = "absolute_form",
       .input = "GET http://example.com:8080/api/rooms?roomid=r1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).target, "http://example.com:8080/api/rooms?roomid=r1");
             EXPECT_EQ(rs.at(0).path, "/api/rooms");
             EXPECT_EQ(rs.at(0).query, "roomid=r1");
           }},
      {.name = "absolute_form_without_path",
       .input = "GET HTTPS://example.com HTTP/1.1\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).path, "/");
             EXPECT_EQ(rs.at(0).query, "");
           }},
      {.name = "absolute_form_query_without_path",
       .input = "GET http://h?x=1 HTTP/1.1\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).path, "/");
             EXPECT_EQ(rs.at(0).query, "x=1");
           }},
      {.name = "options_asterisk",
       .input = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).method, "OPTIONS");
             EXPECT_EQ(rs.at(0).target, "*");
             EXPECT_EQ(rs.at(0).path, "*");
           }},
      {.name = "http10_closes_by_default",
       .input = "GET / HTTP/1.0\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).version_minor, 0);
             EXPECT_FALSE(rs.at(0).keep_alive());
           }},
      {.name = "http10_keep_alive",
       .input = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
       .check = [](const std::vector<Request>& rs) { EXPECT_TRUE(rs.at(0).keep_alive()); }},
      {.name = "http10_content_length_body",
       .input = "POST / HTTP/1.0\r\nContent-Length: 1\r\n\r\n!",
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).body, "!"); }},
      {.name = "http11_connection_close",
       .input = "GET / HTTP/1.1\r\nConnection: Upgrade, close\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_FALSE(rs.at(0).keep_alive());
             EXPECT_TRUE(rs.at(0).header_has_token("connection", "upgrade"));
           }},
      {.name = "expect_continue",
       .input = "POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nhi",
       .check = [](const std::vector<Request>& rs) { EXPECT_TRUE(rs.at(0).expects_continue()); }},
      {.name = "query_param_decoding",
       .input = "GET /api/rooms?x=1&room%69d=a%20b+c%2Bd%zz&roomid=second HTTP/1.1\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).query_param("roomid"), "a b c+d%zz");
             EXPECT_EQ(rs.at(0).query_param("x"), "1");
             EXPECT_EQ(rs.at(0).query_param("missing"), std::nullopt);
           }},
      {.name = "non_ascii_bytes_in_target_are_kept_raw",
       .input = "GET /caf\xC3\xA9?q=\xC3\xA9 HTTP/1.1\r\n\r\n",
       .check =
           [](const std::vector<Request>& rs) {
             EXPECT_EQ(rs.at(0).path, "/caf\xC3\xA9");
             EXPECT_EQ(rs.at(0).query_param("q"), "\xC3\xA9");
           }},
  };
}

std::vector<Case> truncated_cases() {
  return {
      {.name = "nothing", .input = "", .status = Status::need_more, .requests = 0},
      {.name = "only_empty_lines", .input = "\r\n\r\n\n\r", .status = Status::need_more, .requests = 0},
      {.name = "partial_method",
       .input = "GE",
       .status = Status::need_more,
       .requests = 0,
       .in_progress = true},
      {.name = "partial_request_line",
       .input = "GET / HTT",
       .status = Status::need_more,
       .requests = 0,
       .in_progress = true},
      {.name = "request_line_without_lf",
       .input = "GET / HTTP/1.1\r",
       .status = Status::need_more,
       .requests = 0,
       .in_progress = true},
      {.name = "missing_final_empty_line",
       .input = "GET / HTTP/1.1\r\nHost: a\r\n",
       .status = Status::need_more,
       .requests = 0,
       .in_progress = true},
      {.name = "final_empty_line_without_lf",
       .input = "GET / HTTP/1.1\r\nHost: a\r\n\r",
       .status = Status::need_more,
       .requests = 0,
       .in_progress = true},
      {.name = "content_length_body_short",
       .input = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel",
       .status = Status::need_more,
       .requests = 0,
       .in_progress = true},
      {.name = "chunked_without_last_chunk",
       .input = chunked_post("5\r\nhello\r\n"),
       .status = Status::need_more,
       .requests = 0,
       .in_progress = true},
      {.name = "chunked_inside_chunk_data",
       .input = chunked_post("5\r\nhel"),
       .status = Status::need_more,
       .requests = 0,
       .in_progress = true},
      {.name = "chunked_inside_extension",
       .input = chunked_post("5;na"),
       .status = Status::need_more,
       .requests = 0,
       .in_progress = true},
      {.name = "chunked_without_final_crlf",
       .input = chunked_post("0\r\nTrailer: x\r\n"),
       .status = Status::need_more,
       .requests = 0,
       .in_progress = true},
      {.name = "second_pipelined_request_partial",
       .input = "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 4\r\n\r\nab",
       .status = Status::need_more,
       .requests = 1,
       .in_progress = true},
      {.name = "header_block_one_byte_short_of_limit_unfinished",
       .input = request_with_header_block_of(64).substr(0, 63),
       .status = Status::need_more,
       .requests = 0,
       .limits = {.max_header_bytes = 64},
       .in_progress = true},
  };
}

std::vector<Case> oversized_cases() {
  const ParserLimits small_headers{.max_header_bytes = 64};
  const ParserLimits small_body{.max_body_bytes = 16};
  return {
      {.name = "headers_exactly_at_limit",
       .input = request_with_header_block_of(64),
       .limits = small_headers},
      {.name = "headers_one_over_limit",
       .input = request_with_header_block_of(65),
       .status = Status::error,
       .error = ParseError::headers_too_large,
       .requests = 0,
       .limits = small_headers},
      {.name = "lf_headers_exactly_at_limit",
       .input = request_with_header_block_of(64, "\n"),
       .limits = small_headers},
      {.name = "lf_headers_one_over_limit",
       .input = request_with_header_block_of(65, "\n"),
       .status = Status::error,
       .error = ParseError::headers_too_large,
       .requests = 0,
       .limits = small_headers},
      {.name = "default_limit_headers_exactly_8192", .input = request_with_header_block_of(8192)},
      {.name = "default_limit_headers_8193",
       .input = request_with_header_block_of(8193),
       .status = Status::error,
       .error = ParseError::headers_too_large,
       .requests = 0},
      {.name = "request_line_over_limit_without_lf",
       .input = "GET /" + std::string(100, 'a'),
       .status = Status::error,
       .error = ParseError::headers_too_large,
       .requests = 0,
       .limits = small_headers},
      {.name = "header_line_over_limit_without_lf",
       .input = "GET / HTTP/1.1\r\nX: " + std::string(100, 'v'),
       .status = Status::error,
       .error = ParseError::headers_too_large,
       .requests = 0,
       .limits = small_headers},
      {.name = "many_small_headers_over_limit",
       .input = "GET / HTTP/1.1\r\n" +
                [] {
                  std::string s;
                  for (int i = 0; i < 20; ++i) s += "A: b\r\n";
                  return s;
                }(),
       .status = Status::error,
       .error = ParseError::headers_too_large,
       .requests = 0,
       .limits = small_headers},
      {.name = "leading_empty_lines_up_to_limit",
       .input = std::string(32, '\n') + "GET / HTTP/1.1\r\n\r\n",
       .limits = {.max_header_bytes = 32}},
      {.name = "leading_empty_lines_over_limit",
       .input = std::string(33, '\n') + "GET / HTTP/1.1\r\n\r\n",
       .status = Status::error,
       .error = ParseError::bad_request,
       .requests = 0,
       .limits = {.max_header_bytes = 32}},
      {.name = "body_at_limit",
       .input = post_with_body(16),
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).body, std::string(16, 'b')); },
       .limits = small_body},
      {.name = "body_one_over_limit_detected_after_headers",
       .input = "POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n",
       .status = Status::error,
       .error = ParseError::body_too_large,
       .requests = 0,
       .limits = small_body},
      {.name = "default_body_at_limit", .input = post_with_body(16384)},
      {.name = "default_body_one_over_limit",
       .input = post_with_body(16385),
       .status = Status::error,
       .error = ParseError::body_too_large,
       .requests = 0},
      {.name = "huge_content_length",
       .input = "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999999999\r\n\r\n",
       .status = Status::error,
       .error = ParseError::body_too_large,
       .requests = 0},
      {.name = "chunked_body_at_limit",
       .input = chunked_post("8\r\n12345678\r\n8\r\nabcdefgh\r\n0\r\n\r\n"),
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).body, "12345678abcdefgh"); },
       .limits = small_body},
      {.name = "chunked_body_over_limit",
       .input = chunked_post("8\r\n12345678\r\n9\r\n"),
       .status = Status::error,
       .error = ParseError::body_too_large,
       .requests = 0,
       .limits = small_body},
      {.name = "chunk_size_huge",
       .input = chunked_post("ffffffffffffffffffffffff\r\n"),
       .status = Status::error,
       .error = ParseError::body_too_large,
       .requests = 0},
      {.name = "trailers_within_their_own_budget",
       .input = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX-Pad: " + std::string(8, 'p') +
                "\r\n\r\n0\r\nT: " + std::string(57, 't') + "\r\n\r\n",
       .limits = small_headers},
      {.name = "trailers_over_limit",
       .input = chunked_post("0\r\nT: " + std::string(60, 't') + "\r\n\r\n"),
       .status = Status::error,
       .error = ParseError::headers_too_large,
       .requests = 0,
       .limits = small_headers},
      {.name = "chunk_extensions_count_against_trailer_budget",
       .input = chunked_post("1;" + std::string(40, 'e') + "\r\na\r\n1;" + std::string(40, 'e') + "\r\n"),
       .status = Status::error,
       .error = ParseError::headers_too_large,
       .requests = 0,
       .limits = small_headers},
  };
}

Case malformed(std::string name, std::string input, ParseError error = ParseError::bad_request) {
  return {.name = std::move(name),
          .input = std::move(input),
          .status = Status::error,
          .error = error,
          .requests = 0};
}

std::vector<Case> malformed_cases() {
  const ParseError bad = ParseError::bad_request;
  return {
      malformed("bad_method_char", "G(ET / HTTP/1.1\r\n\r\n"),
      malformed("method_with_slash", "GE/T / HTTP/1.1\r\n\r\n"),
      malformed("empty_method", " / HTTP/1.1\r\n\r\n"),
      malformed("tab_separator", "GET\t/ HTTP/1.1\r\n\r\n"),
      malformed("double_space", "GET  / HTTP/1.1\r\n\r\n"),
      malformed("trailing_space_after_version", "GET / HTTP/1.1 \r\n\r\n"),
      malformed("missing_version", "GET /\r\n\r\n"),
      malformed("missing_target_and_version", "GET\r\n\r\n"),
      malformed("lowercase_version", "GET / http/1.1\r\n\r\n"),
      malformed("version_without_minor", "GET / HTTP/1\r\n\r\n"),
      malformed("version_with_extra_digit", "GET / HTTP/1.10\r\n\r\n"),
      malformed("version_garbage", "GET / HTTP/x.y\r\n\r\n"),
      malformed("cr_inside_request_line", "GET / HTTP/1.1\rX\r\n\r\n"),
      malformed("double_cr_line_end", "GET / HTTP/1.1\r\r\n\r\n"),
      malformed("target_not_slash", "GET abc HTTP/1.1\r\n\r\n"),
      malformed("target_with_space", "GET /a b HTTP/1.1\r\n\r\n"),
      malformed("target_with_control_char",
                "GET /a\x01"
                "b HTTP/1.1\r\n\r\n"),
      malformed("target_with_del", "GET /a\x7f HTTP/1.1\r\n\r\n"),
      malformed("target_with_fragment", "GET /a#frag HTTP/1.1\r\n\r\n"),
      malformed("asterisk_for_get", "GET * HTTP/1.1\r\n\r\n"),
      malformed("authority_form", "CONNECT example.com:443 HTTP/1.1\r\n\r\n"),
      malformed("absolute_form_other_scheme", "GET ftp://example.com/ HTTP/1.1\r\n\r\n"),
      malformed("absolute_form_empty_authority", "GET http:///path HTTP/1.1\r\n\r\n"),
      malformed("absolute_form_nothing_after_scheme", "GET http:// HTTP/1.1\r\n\r\n"),
      malformed("http2_version", "GET / HTTP/2.0\r\n\r\n", ParseError::version_not_supported),
      malformed("http2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ParseError::version_not_supported),
      malformed("http12_version", "GET / HTTP/1.2\r\n\r\n", ParseError::version_not_supported),
      malformed("http09_version", "GET / HTTP/0.9\r\n\r\n", ParseError::version_not_supported),
      malformed("bare_cr_before_request", "\rGET / HTTP/1.1\r\n\r\n"),
      malformed("lf_in_value_makes_a_line_without_colon", "GET / HTTP/1.1\r\nX-A: one\ntwo\r\n\r\n"),
      malformed("cr_in_value", "GET / HTTP/1.1\r\nX-A: one\rtwo\r\n\r\n"),
      malformed("nul_in_value", std::string("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 28)),
      malformed("escape_in_value", "GET / HTTP/1.1\r\nX-A: a\x1b[0m\r\n\r\n"),
      malformed("space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
      malformed("tab_before_colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"),
      malformed("empty_header_name", "GET / HTTP/1.1\r\n: a\r\n\r\n"),
      malformed("header_without_colon", "GET / HTTP/1.1\r\nHost\r\n\r\n"),
      malformed("header_name_with_bad_char", "GET / HTTP/1.1\r\nX(A): a\r\n\r\n"),
      malformed("obs_fold_space", "GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n"),
      malformed("obs_fold_tab", "GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n"),
      malformed("whitespace_before_first_header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
      malformed("content_length_letters", "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
      malformed("content_length_negative", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
      malformed("content_length_plus", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello"),
      malformed("content_length_hex", "POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\nhello"),
      malformed("content_length_empty", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"),
      malformed("content_length_inner_space", "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n"),
      malformed("content_length_list_differs", "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\nhello"),
      malformed("content_length_list_empty_element", "POST / HTTP/1.1\r\nContent-Length: 5,\r\n\r\nhello"),
      malformed("content_length_duplicates_differ",
                "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"),
      malformed("content_length_duplicates_differ_in_spelling",
                "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\nhello"),
      malformed("content_length_and_transfer_encoding",
                "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
      malformed("transfer_encoding_on_http10",
                "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
      malformed("transfer_encoding_empty", "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n"),
      malformed(
          "transfer_encoding_chunked_twice",
          "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
      malformed("transfer_encoding_gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                ParseError::not_implemented),
      malformed("transfer_encoding_gzip_chunked",
                "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ParseError::not_implemented),
      malformed("transfer_encoding_chunked_gzip",
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", ParseError::not_implemented),
      malformed("transfer_encoding_identity", "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n",
                ParseError::not_implemented),
      malformed("chunk_size_not_hex", chunked_post("zz\r\n")),
      malformed("chunk_size_empty", chunked_post("\r\n")),
      malformed("chunk_size_negative", chunked_post("-1\r\n")),
      malformed("chunk_size_0x_prefix", chunked_post("0x5\r\nhello\r\n0\r\n\r\n")),
      malformed("chunk_size_leading_space", chunked_post(" 5\r\nhello\r\n0\r\n\r\n")),
      malformed("chunk_size_too_many_digits", chunked_post("00000000000000001\r\nx\r\n0\r\n\r\n")),
      malformed("chunk_size_garbage_after_digits", chunked_post("5 x\r\nhello\r\n0\r\n\r\n")),
      malformed("chunk_size_bare_cr", chunked_post("5\rhello\r\n0\r\n\r\n")),
      malformed("chunk_extension_control_char", chunked_post("5;a=\x01\r\nhello\r\n0\r\n\r\n")),
      malformed("chunk_data_longer_than_size", chunked_post("5\r\nhelloX\r\n0\r\n\r\n")),
      malformed("chunk_data_not_followed_by_line_end", chunked_post("5\r\nhello00\r\n\r\n")),
      malformed("chunk_data_cr_without_lf", chunked_post("5\r\nhello\rX0\r\n\r\n")),
      malformed("bad_trailer_line", chunked_post("0\r\nnot a field\r\n\r\n")),
      malformed("trailer_obs_fold", chunked_post("0\r\nT: a\r\n b\r\n\r\n")),
      {.name = "second_pipelined_request_malformed",
       .input = "GET /ok HTTP/1.1\r\n\r\nGET /bad HTTP/9.9\r\n\r\n",
       .status = Status::error,
       .error = ParseError::version_not_supported,
       .requests = 1,
       .check = [](const std::vector<Request>& rs) { EXPECT_EQ(rs.at(0).path, "/ok"); }},
      {.name = "chunk_size_letter_after_headers",
       .input = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n",
       .status = Status::error,
       .error = bad,
       .requests = 0},
  };
}

std::vector<Case> all_cases() {
  std::vector<Case> all;
  for (auto* table : {&valid_cases, &truncated_cases, &oversized_cases, &malformed_cases}) {
    for (Case& c : (*table)()) all.push_back(std::move(c));
  }
  return all;
}

void expect_case(const Case& c, const Outcome& out) {
  EXPECT_EQ(out.status, c.status) << status_name(out.status);
  EXPECT_EQ(out.error, c.error);
  ASSERT_EQ(out.requests.size(), c.requests);
  if (c.status == Status::need_more) {
    EXPECT_EQ(out.in_progress, c.in_progress);
  }
  if (c.check) c.check(out.requests);
}

class ValidTest : public ::testing::TestWithParam<Case> {};
class TruncatedTest : public ::testing::TestWithParam<Case> {};
class OversizedTest : public ::testing::TestWithParam<Case> {};
class MalformedTest : public ::testing::TestWithParam<Case> {};
class SplitInvarianceTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidTest, Parses) {
  expect_case(GetParam(), parse_whole(GetParam().input, GetParam().limits));
}
TEST_P(TruncatedTest, NeedsMore) {
  expect_case(GetParam(), parse_whole(GetParam().input, GetParam().limits));
}
TEST_P(OversizedTest, HitsLimit) {
  expect_case(GetParam(), parse_whole(GetParam().input, GetParam().limits));
}
TEST_P(MalformedTest, Rejects) {
  expect_case(GetParam(), parse_whole(GetParam().input, GetParam().limits));
}

INSTANTIATE_TEST_SUITE_P(Http, ValidTest, ::testing::ValuesIn(valid_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Http, TruncatedTest, ::testing::ValuesIn(truncated_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Http, OversizedTest, ::testing::ValuesIn(oversized_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Http, MalformedTest, ::testing::ValuesIn(malformed_cases()), case_name);

// Every case gives the same outcome fed whole, one byte at a time, and in random pieces.
TEST_P(SplitInvarianceTest, SameOutcomeForAnySplit) {
  const Case& c = GetParam();
  const Outcome whole = parse_whole(c.input, c.limits);
  expect_case(c, whole);
  EXPECT_EQ(parse_bytewise(c.input, c.limits), whole) << "byte by byte";
  for (unsigned seed = 1; seed <= 25; ++seed) {
    EXPECT_EQ(parse_random_split(c.input, c.limits, seed), whole) << "random split, seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(Http, SplitInvarianceTest, ::testing::ValuesIn(all_cases()), case_name);

TEST(RequestParserTest, CompleteStopsRightAfterTheRequest) {
  const std::string first = "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
  const std::string second = "GET /b HTTP/1.1\r\n\r\n";
  RequestParser parser(ParserLimits{});
  const std::string both = first + second;

  RequestParser::Progress p = parser.feed(both);
  EXPECT_EQ(p.status, Status::complete);
  EXPECT_EQ(p.consumed, first.size());
  EXPECT_FALSE(parser.in_progress());
  // Until reset() the parser keeps its result and consumes nothing.
  p = parser.feed(std::string_view(both).substr(first.size()));
  EXPECT_EQ(p.status, Status::complete);
  EXPECT_EQ(p.consumed, 0u);
  EXPECT_EQ(parser.request().path, "/a");

  const Request a = parser.take_request();
  EXPECT_EQ(a.body, "hi");
  parser.reset();
  EXPECT_FALSE(parser.headers_complete());
  p = parser.feed(std::string_view(both).substr(first.size()));
  EXPECT_EQ(p.status, Status::complete);
  EXPECT_EQ(p.consumed, second.size());
  EXPECT_EQ(parser.take_request().path, "/b");
}

TEST(RequestParserTest, BodylessRequestCompletesWithoutFurtherInput) {
  RequestParser parser(ParserLimits{});
  const std::string input = "GET / HTTP/1.1\r\n\r\n";
  const auto p = parser.feed(input);
  EXPECT_EQ(p.status, Status::complete);
  EXPECT_EQ(p.consumed, input.size());
}

TEST(RequestParserTest, ErrorIsStickyUntilReset) {
  RequestParser parser(ParserLimits{});
  auto p = parser.feed("BROKEN\r\n");
  EXPECT_EQ(p.status, Status::error);
  EXPECT_EQ(parser.error(), ParseError::bad_request);
  EXPECT_FALSE(parser.in_progress());

  p = parser.feed("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(p.status, Status::error);
  EXPECT_EQ(p.consumed, 0u);
  EXPECT_EQ(parser.error(), ParseError::bad_request);

  parser.reset();
  EXPECT_EQ(parser.error(), ParseError::none);
  p = parser.feed("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(p.status, Status::complete);
}

TEST(RequestParserTest, HeadersCompleteBeforeBodyForExpectContinue) {
  RequestParser parser(ParserLimits{});
  EXPECT_FALSE(parser.headers_complete());
  auto p = parser.feed("POST /api/rooms HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n");
  EXPECT_EQ(p.status, Status::need_more);
  EXPECT_FALSE(parser.headers_complete());
  p = parser.feed("\r\n");
  EXPECT_EQ(p.status, Status::need_more);
  EXPECT_EQ(p.consumed, 2u);
  ASSERT_TRUE(parser.headers_complete());
  EXPECT_TRUE(parser.request().expects_continue());
  EXPECT_EQ(parser.request().path, "/api/rooms");
  p = parser.feed("body");
  EXPECT_EQ(p.status, Status::complete);
  EXPECT_EQ(parser.request().body, "body");
}

TEST(RequestParserTest, TheLongBodyRuleSetsTheLimitUnderItsPath) {
  struct Row {
    const char* path;
    std::size_t body;
    Status status;
  };
  // max_body_bytes 10; under /socket.io/ the limit is 20, above or below the general one.
  for (std::size_t long_limit : {std::size_t{20}, std::size_t{5}}) {
    const Row rows[] = {{"/socket.io/?EIO=4", long_limit, Status::complete},
                        {"/socket.io/?EIO=4", long_limit + 1, Status::error},
                        {"/api/rooms", 10, Status::complete},
                        {"/api/rooms", 11, Status::error},
                        {"/socket.ioX/", 11, Status::error}};
    for (const auto& row : rows) {
      SCOPED_TRACE(std::string(row.path) + " " + std::to_string(row.body) + " under " +
                   std::to_string(long_limit));
      RequestParser parser(ParserLimits{.max_body_bytes = 10});
      parser.set_long_body_rule({"/socket.io/", long_limit});
      const std::string head = "POST " + std::string(row.path) +
                               " HTTP/1.1\r\nContent-Length: " + std::to_string(row.body) + "\r\n\r\n";
      const auto p = parser.feed(head + std::string(row.body, 'x'));
      EXPECT_EQ(p.status, row.status);
      if (row.status == Status::error) {
        EXPECT_EQ(parser.error(), ParseError::body_too_large);
      }
    }
  }
}

TEST(RequestParserTest, BodyTooLargeByContentLengthIsReportedWithHeaders) {
  RequestParser parser(ParserLimits{.max_body_bytes = 10});
  const auto p = parser.feed("POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\n");
  EXPECT_EQ(p.status, Status::error);
  EXPECT_EQ(parser.error(), ParseError::body_too_large);
  EXPECT_TRUE(parser.headers_complete());
  EXPECT_EQ(parser.request().path, "/x");
}

TEST(RequestParserTest, InProgressTracksAStartedRequest) {
  RequestParser parser(ParserLimits{});
  EXPECT_FALSE(parser.in_progress());
  parser.feed("\r\n\r");
  EXPECT_FALSE(parser.in_progress()) << "empty lines before a request are not a request";
  parser.feed("\nG");
  EXPECT_TRUE(parser.in_progress());
  parser.feed("ET / HTTP/1.1\r\nContent-Length: 1\r\n\r\n");
  EXPECT_TRUE(parser.in_progress());
  EXPECT_EQ(parser.feed("x").status, Status::complete);
  EXPECT_FALSE(parser.in_progress());
  parser.reset();
  EXPECT_FALSE(parser.in_progress());
}

TEST(RequestParserTest, SetLimitsAppliesAndSurvivesReset) {
  RequestParser parser(ParserLimits{});
  parser.set_limits(ParserLimits{.max_header_bytes = 20, .max_body_bytes = 2});
  EXPECT_EQ(parser.feed("GET /0123456789abcdef HTTP/1.1\r\n\r\n").status, Status::error);
  EXPECT_EQ(parser.error(), ParseError::headers_too_large);
  parser.reset();
  EXPECT_EQ(parser.feed("GET /0123456789abcdef HTTP/1.1\r\n\r\n").status, Status::error);
  EXPECT_EQ(parser.error(), ParseError::headers_too_large);
  parser.reset();
  EXPECT_EQ(parser.feed("POST / HTTP/1.1\r\n").status, Status::need_more);
  EXPECT_EQ(parser.error(), ParseError::none);
}

TEST(RequestParserTest, HeaderLimitErrorDoesNotWaitForLineEnd) {
  RequestParser parser(ParserLimits{.max_header_bytes = 100});
  EXPECT_EQ(parser.feed("GET /").status, Status::need_more);
  const auto p = parser.feed(std::string(1000, 'a'));
  EXPECT_EQ(p.status, Status::error);
  EXPECT_EQ(parser.error(), ParseError::headers_too_large);
}

// Large inputs fed one byte at a time finish quickly only if no feed rescans what was buffered before.
TEST(RequestParserTest, LargeInputsByteByByte) {
  const ParserLimits limits{.max_header_bytes = 1 << 20, .max_body_bytes = 1 << 20};
  std::string input = "POST /big HTTP/1.1\r\nX-Long: " + std::string(300000, 'v') + "\r\n";
  for (int i = 0; i < 5000; ++i) input += "H" + std::to_string(i) + ": v\r\n";
  input += "Content-Length: " + std::to_string(1 << 20) + "\r\n\r\n" + std::string(1 << 20, 'b');
  std::string chunked = "POST /chunks HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 100000; ++i) chunked += "1;e\r\nc\r\n";
  chunked += "0\r\n\r\n";

  const Outcome big = parse_bytewise(input, limits);
  ASSERT_EQ(big.requests.size(), 1u);
  EXPECT_EQ(big.requests[0].headers.size(), 5002u);
  EXPECT_EQ(big.requests[0].body.size(), std::size_t{1} << 20);
  const Outcome chunks = parse_bytewise(chunked, limits);
  ASSERT_EQ(chunks.requests.size(), 1u);
  EXPECT_EQ(chunks.requests[0].body, std::string(100000, 'c'));
}

struct ErrorMapping {
  ParseError error;
  int status;
  std::string_view code;
};

TEST(ParseErrorTest, StatusAndCode) {
  const ErrorMapping table[] = {
      {ParseError::none, 0, ""},
      {ParseError::bad_request, 400, "bad_request"},
      {ParseError::headers_too_large, 431, "headers_too_large"},
      {ParseError::body_too_large, 413, "body_too_large"},
      {ParseError::version_not_supported, 505, "http_version_not_supported"},
      {ParseError::not_implemented, 501, "not_implemented"},
  };
  for (const ErrorMapping& m : table) {
    EXPECT_EQ(status_for(m.error), m.status) << m.code;
    EXPECT_EQ(error_code_for(m.error), m.code);
  }
}

Request request_with(int version_minor, std::vector<Header> headers, std::string query = "") {
  Request r;
  r.method = "GET";
  r.target = query.empty() ? "/" : "/?" + query;
  r.path = "/";
  r.query = std::move(query);
  r.version_minor = version_minor;
  r.headers = std::move(headers);
  return r;
}

TEST(RequestTest, HeaderLookupIsCaseInsensitiveAndReturnsFirst) {
  const Request r = request_with(1, {{"Content-Type", "a"}, {"content-type", "b"}});
  ASSERT_NE(r.header("CONTENT-TYPE"), nullptr);
  EXPECT_EQ(*r.header("CONTENT-TYPE"), "a");
  EXPECT_EQ(r.header("Content-Length"), nullptr);
  EXPECT_EQ(r.header("Content-Typ"), nullptr);
}

struct TokenCase {
  std::vector<Header> headers;
  std::string_view name;
  std::string_view token;
  bool expected;
};

TEST(RequestTest, HeaderHasToken) {
  const TokenCase table[] = {
      {{{"Connection", "keep-alive, Upgrade"}}, "connection", "upgrade", true},
      {{{"Connection", "keep-alive,Upgrade"}}, "Connection", "keep-alive", true},
      {{{"Connection", "keep-alive"}, {"connection", " close "}}, "Connection", "close", true},
      {{{"Connection", "keep-alive-ish"}}, "Connection", "keep-alive", false},
      {{{"Connection", "closed"}}, "Connection", "close", false},
      {{{"Upgrade", "websocket"}}, "Connection", "websocket", false},
      {{{"Connection", ""}}, "Connection", "close", false},
      {{}, "Connection", "close", false},
  };
  for (const TokenCase& c : table) {
    const Request r = request_with(1, c.headers);
    EXPECT_EQ(r.header_has_token(c.name, c.token), c.expected) << c.name << " / " << c.token;
  }
}

struct ConnectionCase {
  int version_minor;
  std::vector<Header> headers;
  bool keep_alive;
  bool expects_continue;
};

TEST(RequestTest, KeepAliveAndExpectContinue) {
  const ConnectionCase table[] = {
      {1, {}, true, false},
      {1, {{"Connection", "close"}}, false, false},
      {1, {{"Connection", "Close"}}, false, false},
      {1, {{"Connection", "keep-alive"}}, true, false},
      {1, {{"Connection", "keep-alive, close"}}, false, false},
      {0, {}, false, false},
      {0, {{"Connection", "keep-alive"}}, true, false},
      {0, {{"Connection", "KEEP-ALIVE"}}, true, false},
      {0, {{"Connection", "keep-alive"}, {"Connection", "close"}}, false, false},
      {1, {{"Expect", "100-continue"}}, true, true},
      {1, {{"expect", "100-CONTINUE"}}, true, true},
      {1, {{"Expect", "200-ok"}}, true, false},
      {0, {{"Expect", "100-continue"}}, false, false},
  };
  for (std::size_t i = 0; i < std::size(table); ++i) {
    const Request r = request_with(table[i].version_minor, table[i].headers);
    EXPECT_EQ(r.keep_alive(), table[i].keep_alive) << "case " << i;
    EXPECT_EQ(r.expects_continue(), table[i].expects_continue) << "case " << i;
  }
}

struct QueryCase {
  std::string query;
  std::string_view key;
  std::optional<std::string> expected;
};

TEST(RequestTest, QueryParam) {
  const QueryCase table[] = {
      {"roomid=abc", "roomid", "abc"},
      {"a=1&roomid=abc&b=2", "roomid", "abc"},
      {"roomid=first&roomid=second", "roomid", "first"},
      {"roomid=a+b%20c", "roomid", "a b c"},
      {"roomid=%2B%26%3D%25", "roomid", "+&=%"},
      {"roomid=%e2%82%AC", "roomid", "\xE2\x82\xAC"},
      {"roomid=%zz%4", "roomid", "%zz%4"},
      {"roomid=100%", "roomid", "100%"},
      {"roomid=a=b", "roomid", "a=b"},
      {"room%69d=x", "roomid", "x"},
      {"room+id=x", "room id", "x"},
      {"roomid", "roomid", ""},
      {"roomid=", "roomid", ""},
      {"&&roomid=x&", "roomid", "x"},
      {"ROOMID=x", "roomid", std::nullopt},
      {"roomidx=1&xroomid=2", "roomid", std::nullopt},
      {"", "roomid", std::nullopt},
  };
  for (const QueryCase& c : table) {
    const Request r = request_with(1, {}, c.query);
    EXPECT_EQ(r.query_param(c.key), c.expected) << "query " << c.query;
  }
}

TEST(RequestTest, DecodeQueryComponent) {
  EXPECT_EQ(decode_query_component(""), "");
  EXPECT_EQ(decode_query_component("a+b"), "a b");
  EXPECT_EQ(decode_query_component("%41%42%43"), "ABC");
  EXPECT_EQ(decode_query_component("%00"), std::string(1, '\0'));
  EXPECT_EQ(decode_query_component("%"), "%");
  EXPECT_EQ(decode_query_component("%%41"), "%A");
}

}  // namespace
}  // namespace turnpike::http
