#include "object/engine/json_text.h"

#include <cstdint>

#include "core/http/target.h"

namespace ciel::object {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i, or U+FFFD and
// advances one byte when the sequence is malformed (overlong, surrogate, truncated, > U+10FFFF).
std::uint32_t next_code_point(std::string_view s, std::size_t& i) {
  auto cp = http::decode_utf8(s, i);
  if (!cp) {
    ++i;
    return 0xFFFD;
  }
  i += cp->length;
  return cp->value;
}

void append_u16(std::string& out, std::uint32_t unit) {
  out += "\\u";
  out.push_back(kHex[(unit >> 12) & 15]);
  out.push_back(kHex[(unit >> 8) & 15]);
  out.push_back(kHex[(unit >> 4) & 15]);
  out.push_back(kHex[unit & 15]);
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

void append_json_ascii(std::string& out, std::string_view text) {
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t cp = next_code_point(text, i);
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp < 0x7F) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x10000) {
      append_u16(out, cp);
    } else {
      std::uint32_t v = cp - 0x10000;
      append_u16(out, 0xD800 | (v >> 10));
      append_u16(out, 0xDC00 | (v & 0x3FF));
    }
  }
  out.push_back('"');
}

std::string json_ascii(std::string_view text) {
  std::string out;
  append_json_ascii(out, text);
  return out;
}

std::string py_repr(std::string_view text) {
  char quote = '\'';
  if (text.find('\'') != std::string_view::npos && text.find('"') == std::string_view::npos) { quote = '"'; }
  std::string out(1, quote);
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t cp = next_code_point(text, i);
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == static_cast<std::uint32_t>(quote)) {
      out.push_back('\\');
      out.push_back(quote);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0)) {
      out += "\\x";
      out.push_back(kHex[cp >> 4]);
      out.push_back(kHex[cp & 15]);
    } else {
      append_utf8(out, cp);
    }
  }
  out.push_back(quote);
  return out;
}

}  // namespace ciel::object
