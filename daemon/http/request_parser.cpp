// Incremental HTTP/1.1 request parser: request line, header fields, Content-Length and chunked bodies.
#include "http/request_parser.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

namespace turnpike::http {
namespace {

constexpr std::size_t kMaxChunkSizeDigits = 16;  // fits in 64 bits; leading zeros included

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

bool is_ctl_except_htab(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return (c < 0x20 && c != '\t') || c == 0x7f;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
  return text;
}

bool starts_with_icase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && ascii_iequals(text.substr(0, prefix.size()), prefix);
}

// Calls fn(element) for every element of a comma-separated list, each trimmed of OWS (empty ones included).
template <class Fn>
void for_each_list_element(std::string_view list, Fn&& fn) {
  while (true) {
    const std::size_t comma = list.find(',');
    fn(trim_ows(list.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

// Parses `name: value` (no line ending) into `out`.
bool parse_field_line(std::string_view line, Header* out) {
  if (line.empty() || is_ows(line.front())) return false;  // obs-fold, or whitespace before a field
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return false;  // includes whitespace before the colon
  const std::string_view value = trim_ows(line.substr(colon + 1));
  if (std::any_of(value.begin(), value.end(), is_ctl_except_htab)) return false;
  if (out != nullptr) {
    out->name.assign(name);
    out->value.assign(value);
  }
  return true;
}

// Splits a target (or the path-and-query part of an absolute-form target) at the first '?'.
void split_path_query(std::string_view path_query, Request& request) {
  const std::size_t q = path_query.find('?');
  request.path.assign(path_query.substr(0, q));
  if (q != std::string_view::npos) request.query.assign(path_query.substr(q + 1));
}

}  // namespace

int status_for(ParseError error) {
  switch (error) {
    case ParseError::none:
      return 0;
    case ParseError::bad_request:
      return 400;
    case ParseError::headers_too_large:
      return 431;
    case ParseError::body_too_large:
      return 413;
    case ParseError::version_not_supported:
      return 505;
    case ParseError::not_implemented:
      return 501;
  }
  return 400;
}

std::string_view error_code_for(ParseError error) {
  switch (error) {
    case ParseError::none:
      return "";
    case ParseError::bad_request:
      return "bad_request";
    case ParseError::headers_too_large:
      return "headers_too_large";
    case ParseError::body_too_large:
      return "body_too_large";
    case ParseError::version_not_supported:
      return "http_version_not_supported";
    case ParseError::not_implemented:
      return "not_implemented";
  }
  return "bad_request";
}

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

RequestParser::Progress RequestParser::feed(std::string_view data) {
  if (state_ == State::complete) return {0, Status::complete};
  if (state_ == State::error) return {0, Status::error};

  std::size_t pos = 0;
  while (pos < data.size() && state_ != State::complete && state_ != State::error) {
    switch (state_) {
      case State::start:
        pos = step_start(data, pos);
        break;
      case State::request_line:
        pos = step_request_line(data, pos);
        break;
      case State::header_line:
        pos = step_header_line(data, pos);
        break;
      case State::body_length:
        pos = step_body_length(data, pos);
        break;
      case State::chunk_size:
        pos = step_chunk_size(data, pos);
        break;
      case State::chunk_ext:
        pos = step_chunk_ext(data, pos);
        break;
      case State::chunk_size_lf:
        if (data[pos] != '\n') {
          fail(ParseError::bad_request);
          break;
        }
        ++pos;
        finish_chunk_size_line();
        break;
      case State::chunk_data:
        pos = step_chunk_data(data, pos);
        break;
      case State::chunk_data_cr:
        if (data[pos] == '\r') {
          state_ = State::chunk_data_lf;
        } else if (data[pos] == '\n') {
          state_ = State::chunk_size;
        } else {
          fail(ParseError::bad_request);
          break;
        }
        ++pos;
        break;
      case State::chunk_data_lf:
        if (data[pos] != '\n') {
          fail(ParseError::bad_request);
          break;
        }
        ++pos;
        state_ = State::chunk_size;
        break;
      case State::trailer_line:
        pos = step_trailer_line(data, pos);
        break;
      case State::complete:
      case State::error:
        break;
    }
  }

  if (state_ == State::complete) return {pos, Status::complete};
  if (state_ == State::error) return {pos, Status::error};
  return {pos, Status::need_more};
}

std::size_t RequestParser::body_limit() const {
  if (!long_body_.path.empty() && request_.path.starts_with(long_body_.path))
    return long_body_.max_body_bytes;
  return limits_.max_body_bytes;
}

bool RequestParser::in_progress() const {
  return state_ != State::start && state_ != State::complete && state_ != State::error;
}

Request RequestParser::take_request() {
  return std::exchange(request_, Request{});
}

void RequestParser::reset() {
  state_ = State::start;
  error_ = ParseError::none;
  request_ = Request{};
  line_.clear();
  pending_cr_ = false;
  headers_complete_ = false;
  ext_started_ = false;
  leading_bytes_ = 0;
  header_bytes_ = 0;
  meta_bytes_ = 0;
  body_remaining_ = 0;
  chunk_size_ = 0;
  chunk_digits_ = 0;
  chunk_remaining_ = 0;
}

void RequestParser::fail(ParseError error) {
  state_ = State::error;
  error_ = error;
  line_.clear();
}

bool RequestParser::take_line(std::string_view data, std::size_t& pos, std::size_t& counter,
                              std::size_t limit, ParseError over) {
  const std::string_view rest = data.substr(pos);
  const std::size_t lf = rest.find('\n');
  const std::size_t take = lf == std::string_view::npos ? rest.size() : lf + 1;
  if (counter > limit || take > limit - counter) {
    pos += counter > limit ? 0 : limit - counter + 1;  // the first byte past the limit
    fail(over);
    return false;
  }
  counter += take;
  pos += take;
  if (lf == std::string_view::npos) {
    line_.append(rest);
    return false;
  }
  line_.append(rest.substr(0, lf));
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  return true;
}

std::size_t RequestParser::step_start(std::string_view data, std::size_t pos) {
  for (; pos < data.size(); ++pos) {
    const char c = data[pos];
    if (pending_cr_) {
      if (c != '\n') {
        fail(ParseError::bad_request);  // a bare CR is not a line ending
        return pos;
      }
      pending_cr_ = false;
    } else if (c == '\r') {
      pending_cr_ = true;
    } else if (c != '\n') {
      state_ = State::request_line;
      return pos;
    }
    if (++leading_bytes_ > limits_.max_header_bytes) {
      fail(ParseError::bad_request);
      return pos + 1;
    }
  }
  return pos;
}

std::size_t RequestParser::step_request_line(std::string_view data, std::size_t pos) {
  if (!take_line(data, pos, header_bytes_, limits_.max_header_bytes, ParseError::headers_too_large))
    return pos;
  const ParseError error = parse_request_line(line_);
  line_.clear();
  if (error != ParseError::none) {
    fail(error);
  } else {
    state_ = State::header_line;
  }
  return pos;
}

ParseError RequestParser::parse_request_line(std::string_view line) {
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return ParseError::bad_request;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return ParseError::bad_request;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);

  if (!is_token(method)) return ParseError::bad_request;

  // HTTP-version = "HTTP/" DIGIT "." DIGIT; checked before the target so that e.g. an HTTP/2 preface
  // ("PRI * HTTP/2.0") is answered 505.
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) || version[6] != '.' ||
      !is_digit(version[7])) {
    return ParseError::bad_request;
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return ParseError::version_not_supported;

  if (target.empty()) return ParseError::bad_request;
  for (char ch : target) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == '#') return ParseError::bad_request;
  }

  request_.method.assign(method);
  request_.target.assign(target);
  request_.version_minor = version[7] - '0';

  if (target == "*") {
    if (method != "OPTIONS") return ParseError::bad_request;
    request_.path = "*";
    return ParseError::none;
  }
  if (target.front() == '/') {
    split_path_query(target, request_);
    return ParseError::none;
  }

  // absolute-form: scheme "://" authority [ path-abempty ] [ "?" query ]
  std::string_view rest;
  if (starts_with_icase(target, "http://")) {
    rest = target.substr(7);
  } else if (starts_with_icase(target, "https://")) {
    rest = target.substr(8);
  } else {
    return ParseError::bad_request;
  }
  const std::size_t authority_end = rest.find_first_of("/?");
  if (authority_end == 0 || rest.empty()) return ParseError::bad_request;
  if (authority_end == std::string_view::npos) {
    request_.path = "/";
    return ParseError::none;
  }
  split_path_query(rest.substr(authority_end), request_);
  if (request_.path.empty()) request_.path = "/";
  return ParseError::none;
}

std::size_t RequestParser::step_header_line(std::string_view data, std::size_t pos) {
  if (!take_line(data, pos, header_bytes_, limits_.max_header_bytes, ParseError::headers_too_large))
    return pos;
  if (line_.empty()) {
    finish_headers();
    return pos;
  }
  Header header;
  const bool ok = parse_field_line(line_, &header);
  line_.clear();
  if (!ok) {
    fail(ParseError::bad_request);
    return pos;
  }
  request_.headers.push_back(std::move(header));
  return pos;
}

void RequestParser::finish_headers() {
  headers_complete_ = true;

  bool has_te = false;
  bool has_cl = false;
  for (const Header& h : request_.headers) {
    if (ascii_iequals(h.name, "Transfer-Encoding")) has_te = true;
    if (ascii_iequals(h.name, "Content-Length")) has_cl = true;
  }
  if (has_te && has_cl) return fail(ParseError::bad_request);  // RFC 9112 §6.3: request smuggling vector
  if (has_te && request_.version_minor == 0) return fail(ParseError::bad_request);  // RFC 9112 §6.1

  if (has_te) {
    std::size_t chunked = 0;
    bool unknown = false;
    for (const Header& h : request_.headers) {
      if (!ascii_iequals(h.name, "Transfer-Encoding")) continue;
      for_each_list_element(h.value, [&](std::string_view coding) {
        if (coding.empty()) return;
        if (ascii_iequals(coding, "chunked")) {
          ++chunked;
        } else {
          unknown = true;
        }
      });
    }
    if (unknown) return fail(ParseError::not_implemented);
    if (chunked != 1) return fail(ParseError::bad_request);  // empty, or chunked applied twice
    state_ = State::chunk_size;
    return;
  }

  if (has_cl) {
    std::optional<std::string_view> first;
    bool valid = true;
    for (const Header& h : request_.headers) {
      if (!ascii_iequals(h.name, "Content-Length")) continue;
      for_each_list_element(h.value, [&](std::string_view element) {
        if (element.empty() || !std::all_of(element.begin(), element.end(), is_digit)) valid = false;
        if (first && *first != element) valid = false;
        if (!first) first = element;
      });
    }
    if (!valid) return fail(ParseError::bad_request);
    std::uint64_t length = 0;
    bool too_large = false;
    for (char c : *first) {
      const auto digit = static_cast<std::uint64_t>(c - '0');
      if (length > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
        too_large = true;
        break;
      }
      length = length * 10 + digit;
      if (length > body_limit()) {
        too_large = true;
        break;
      }
    }
    if (too_large) return fail(ParseError::body_too_large);
    body_remaining_ = static_cast<std::size_t>(length);
    if (body_remaining_ == 0) {
      state_ = State::complete;
      return;
    }
    request_.body.reserve(body_remaining_);
    state_ = State::body_length;
    return;
  }

  state_ = State::complete;
}

std::size_t RequestParser::step_body_length(std::string_view data, std::size_t pos) {
  const std::size_t take = std::min(body_remaining_, data.size() - pos);
  request_.body.append(data.substr(pos, take));
  body_remaining_ -= take;
  if (body_remaining_ == 0) state_ = State::complete;
  return pos + take;
}

std::size_t RequestParser::step_chunk_size(std::string_view data, std::size_t pos) {
  for (; pos < data.size(); ++pos) {
    const char c = data[pos];
    const int digit = hex_value(c);
    if (digit < 0) {
      if (chunk_digits_ == 0) {
        fail(ParseError::bad_request);
        return pos;
      }
      if (c == '\r') {
        state_ = State::chunk_size_lf;
        return pos + 1;
      }
      if (c == '\n') {
        finish_chunk_size_line();
        return pos + 1;
      }
      if (c == ';' || is_ows(c)) {
        ext_started_ = false;
        state_ = State::chunk_ext;
        return pos;
      }
      fail(ParseError::bad_request);
      return pos;
    }
    if (++chunk_digits_ > kMaxChunkSizeDigits) {
      fail(ParseError::bad_request);
      return pos;
    }
    chunk_size_ = chunk_size_ * 16 + static_cast<std::uint64_t>(digit);
    const std::size_t have = request_.body.size();
    const std::size_t limit = body_limit();
    if (have > limit || chunk_size_ > limit - have) {
      fail(ParseError::body_too_large);
      return pos + 1;
    }
  }
  return pos;
}

std::size_t RequestParser::step_chunk_ext(std::string_view data, std::size_t pos) {
  // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ); only the leading BWS ";" is
  // checked, the rest is ignored apart from control characters. Trailing whitespace is tolerated.
  for (; pos < data.size(); ++pos) {
    const char c = data[pos];
    if (c == '\r') {
      state_ = State::chunk_size_lf;
      return pos + 1;
    }
    if (c == '\n') {
      finish_chunk_size_line();
      return pos + 1;
    }
    if (is_ctl_except_htab(c)) {
      fail(ParseError::bad_request);
      return pos;
    }
    if (!ext_started_) {
      if (c == ';') {
        ext_started_ = true;
      } else if (!is_ows(c)) {
        fail(ParseError::bad_request);
        return pos;
      }
    }
    if (++meta_bytes_ > limits_.max_header_bytes) {
      fail(ParseError::headers_too_large);
      return pos + 1;
    }
  }
  return pos;
}

void RequestParser::finish_chunk_size_line() {
  chunk_remaining_ = chunk_size_;
  chunk_size_ = 0;
  chunk_digits_ = 0;
  state_ = chunk_remaining_ == 0 ? State::trailer_line : State::chunk_data;
}

std::size_t RequestParser::step_chunk_data(std::string_view data, std::size_t pos) {
  const std::size_t take =
      static_cast<std::size_t>(std::min<std::uint64_t>(chunk_remaining_, data.size() - pos));
  request_.body.append(data.substr(pos, take));
  chunk_remaining_ -= take;
  if (chunk_remaining_ == 0) state_ = State::chunk_data_cr;
  return pos + take;
}

std::size_t RequestParser::step_trailer_line(std::string_view data, std::size_t pos) {
  if (!take_line(data, pos, meta_bytes_, limits_.max_header_bytes, ParseError::headers_too_large)) return pos;
  if (line_.empty()) {
    state_ = State::complete;
    return pos;
  }
  const bool ok = parse_field_line(line_, nullptr);  // trailer fields are checked, then dropped
  line_.clear();
  if (!ok) fail(ParseError::bad_request);
  return pos;
}

}  // namespace turnpike::http
