// object/engine/json_text.h: text the way Swift's Python writes it, for the bodies and messages
// Ciel must reproduce byte for byte: json.dumps string literals (ensure_ascii=True) and repr()
// of a string in error messages. Pure functions; shared by the engine and the Swift dialect.
#pragma once
#include <string>
#include <string_view>

namespace ciel::object {

// Appends `text` as a JSON string literal with json.dumps's escapes: \" \\ \n \r \t \b \f, other
// control characters and everything outside printable ASCII as \uXXXX (lowercase hex, surrogate
// pairs past U+FFFF). Bytes that are not valid UTF-8 come out as \ufffd.
void append_json_ascii(std::string& out, std::string_view text);
std::string json_ascii(std::string_view text);

// Python 3's repr() of a str: 'text' (or "text" when it holds a ' and no "), with \\, \n, \r, \t
// and \xNN for other control characters.
std::string py_repr(std::string_view text);

}  // namespace ciel::object
