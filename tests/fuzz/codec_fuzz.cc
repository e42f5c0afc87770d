// Fuzzes the decoders that see client-supplied text outside the request head: base64 and
// base64url (tokens, S3 and Swift headers), hex, ISO 8601 and HTTP dates (query parameters,
// If-Modified-Since). Decoding must never crash, and what decodes must re-encode and decode to
// the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/crypto/crypto.h"
#include "core/time.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace crypto = ciel::crypto;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  FUZZ_CHECK(crypto::unbase64(crypto::base64(input)) == std::string(input));
  FUZZ_CHECK(crypto::unbase64url(crypto::base64url(input)) == std::string(input));
  FUZZ_CHECK(crypto::unhex(crypto::hex(input)) == std::string(input));

  if (auto b = crypto::unbase64(input)) {
    FUZZ_CHECK(b->size() <= input.size() * 3 / 4);
    FUZZ_CHECK(crypto::unbase64(crypto::base64(*b)) == *b);
  }
  if (auto b = crypto::unbase64url(input)) {
    FUZZ_CHECK(crypto::unbase64url(crypto::base64url(*b)) == *b);
    FUZZ_CHECK(input.find_first_of("+/=") == std::string_view::npos);
  }
  if (auto h = crypto::unhex(input)) { FUZZ_CHECK(h->size() * 2 == input.size()); }

  if (auto t = ciel::parse_iso8601(input)) {
    auto again = ciel::parse_iso8601(ciel::iso8601(*t, 6));
    FUZZ_CHECK(again && *again == *t);
  }
  if (auto t = ciel::parse_http_date(input)) { (void)ciel::http_date(*t); }
  return 0;
}
