// Fuzzes the settings loader: a TOML document (toml++) flattened into Ciel's typed settings, and
// the duration and size parsers. Whatever the input, loading either succeeds with values that
// parse as their declared kind or fails with one error message naming the problem.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/config/settings.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ciel::config::parse_duration(text);
  (void)ciel::config::parse_bytes(text);
  if (size > 4096) { return 0; }  // toml++ recursion depth grows with nesting; keep documents config-sized

  using ciel::config::Kind;
  ciel::config::Settings s;
  s.declare({"server.listen", Kind::string, "127.0.0.1:8080", ""});
  s.declare({"server.threads", Kind::integer, "0", ""});
  s.declare({"server.diagnostics", Kind::boolean, "false", ""});
  s.declare({"server.header_timeout", Kind::duration, "10s", ""});
  s.declare({"server.max_header_bytes", Kind::bytes, "64KiB", ""});
  auto st = s.load_toml_string(text, "fuzz.toml");
  if (st) {
    (void)s.get_string("server.listen");
    (void)s.get_int("server.threads");
    (void)s.get_bool("server.diagnostics");
    (void)s.get_duration("server.header_timeout");
    (void)s.get_bytes("server.max_header_bytes");
  } else {
    FUZZ_CHECK(!st.error().message.empty());
    FUZZ_CHECK(st.error().message.find('\n') == std::string::npos);
  }
  return 0;
}
