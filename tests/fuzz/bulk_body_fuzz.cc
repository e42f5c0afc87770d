// Fuzzes the bulk middleware's bodies (object/swift/bulk.h): the input is a bulk delete body. The
// decoded paths are bounded and normalised; the result body rendered from them is valid JSON with
// Swift's keys, well-formed XML and line-per-error text, whatever the paths hold.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "object/swift/bulk.h"

namespace {

namespace sw = ciel::object::swift;
using ciel::Errc;

std::size_t count(std::string_view s, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string_view::npos; p = s.find(what, p + 1)) { ++n; }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto paths = sw::parse_bulk_delete_body(text, 100);
  if (!paths) {
    FUZZ_CHECK(paths.error().code == Errc::invalid_argument || paths.error().code == Errc::too_large);
    FUZZ_CHECK(!paths.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(paths->size() <= 100);
  sw::BulkResult result;
  result.ok_count = paths->size();
  result.response_body = std::string(text.substr(0, 40));
  for (const auto& p : *paths) {
    FUZZ_CHECK(!p.empty() && p[0] == '/' && (p.size() == 1 || p[1] != '/'));
    FUZZ_CHECK(p.size() <= sw::kMaxBulkPathBytes);
    result.errors.emplace_back(p, "409 Conflict");
  }

  for (bool extract : {false, true}) {
    std::string json = sw::render_bulk_result(result, "application/json", extract);
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(json, ec);
    FUZZ_CHECK(!ec && v.is_object());
    const auto& o = v.as_object();
    FUZZ_CHECK(o.contains("Response Status") && o.contains("Response Body") && o.contains("Errors"));
    FUZZ_CHECK(o.at("Errors").as_array().size() == result.errors.size());
    FUZZ_CHECK(o.contains(extract ? "Number Files Created" : "Number Deleted"));

    std::string xml = sw::render_bulk_result(result, "text/xml", extract);
    FUZZ_CHECK(count(xml, "<object>") == result.errors.size());
    FUZZ_CHECK(xml.ends_with(extract ? "</extract>\n" : "</delete>\n"));
    FUZZ_CHECK(count(xml, "<") == count(xml, ">"));  // names and bodies are escaped

    std::string plain = sw::render_bulk_result(result, "text/plain", extract);
    FUZZ_CHECK(plain.ends_with("\n"));
    std::size_t after_errors = plain.find("Errors:\n");
    FUZZ_CHECK(after_errors != std::string::npos);
  }
  return 0;
}
