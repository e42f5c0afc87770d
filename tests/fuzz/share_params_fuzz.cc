// Fuzzes the parameters of the box's OCS Share API (box/dav/share_params.h). The input's first
// byte picks the body's type (odd: JSON, even: a form), the rest up to a newline is a query string
// and what follows is the body. The parser refuses only a JSON body that is not an object (with a
// message); the body's fields win over the query's; every share field the API reads parses or is
// refused without harm; an accepted expiry date is the end of a day that writes back to the same
// date.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "box/dav/share_params.h"
#include "core/http/target.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) { return 0; }
  const bool json = (data[0] & 1) != 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto nl = text.find('\n');
  std::string_view query = text.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  auto q = ciel::http::parse_query(query);
  auto p = ciel::box::dav::parse_share_params(q, body, json ? "application/json; charset=utf-8" : "application/x-www-form-urlencoded");
  if (!p) {
    FUZZ_CHECK(json && !body.empty());
    FUZZ_CHECK(p.error().code == ciel::Errc::invalid_argument && !p.error().message.empty());
    return 0;
  }
  if (body.empty()) { FUZZ_CHECK(p->size() <= q.size()); }
  for (const char* key : {"permissions", "shareType"}) {
    if (auto it = p->find(key); it != p->end()) {
      if (auto v = ciel::box::dav::parse_int(it->second)) { FUZZ_CHECK(ciel::box::dav::parse_int(std::to_string(*v)) == v); }
    }
  }
  for (const auto& [k, v] : *p) {
    if (auto e = ciel::box::dav::parse_expire_date(v)) {
      FUZZ_CHECK(*e % 86400 == 0);
      std::string back = ciel::box::dav::expire_text(*e);
      FUZZ_CHECK(back.substr(0, 10) == v.substr(0, 10));
    }
  }
  return 0;
}
