// Fuzzes temp URL parsing and validation (object/swift/tempurl.h): the input is a query string.
// Parsed parameters validate exactly when the signature is the HMAC a client holding the key
// would compute, and a malformed query is refused as Swift's 401 "Temp URL invalid".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/crypto.h"
#include "core/http/target.h"
#include "fuzz_check.h"
#include "object/swift/tempurl.h"

namespace {

namespace sw = ciel::object::swift;

const std::vector<std::string> kKeys = {"fuzz-key", "second-key"};

void check_signature_forms(std::string_view text) {
  auto sig = sw::parse_signature(text);
  if (!sig) { return; }
  std::size_t want = sig->digest == "sha1" ? 40 : sig->digest == "sha256" ? 64 : 128;
  FUZZ_CHECK(sig->digest == "sha1" || sig->digest == "sha256" || sig->digest == "sha512");
  FUZZ_CHECK(sig->hex.size() == want);
  for (char c : sig->hex) { FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')); }
  // The same signature in the other forms reads the same.
  std::string raw = *ciel::crypto::unhex(sig->hex);
  auto b64 = sw::parse_signature(sig->digest + ":" + ciel::crypto::base64(raw));
  auto b64url = sw::parse_signature(sig->digest + ":" + ciel::crypto::base64url(raw));
  auto hex = sw::parse_signature(sig->hex);
  FUZZ_CHECK(b64 && b64->hex == sig->hex && b64->digest == sig->digest);
  FUZZ_CHECK(b64url && b64url->hex == sig->hex);
  FUZZ_CHECK(hex && hex->hex == sig->hex && hex->digest == sig->digest);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_signature_forms(text);
  auto query = ciel::http::parse_query(text);
  for (const auto& [k, v] : query) {
    if (k == "temp_url_sig") { check_signature_forms(v); }
  }
  auto params = sw::parse_tempurl_query(query);
  if (!params) {
    FUZZ_CHECK(params.error().code == ciel::Errc::unauthenticated);
    FUZZ_CHECK(params.error().message == "Temp URL invalid");
    return 0;
  }
  FUZZ_CHECK(sw::is_tempurl_request(query));

  std::string object = params->prefix ? *params->prefix + "obj" : "obj";
  std::string path = "/v1/AUTH_fuzz/cont/" + object;
  std::string signed_path = params->prefix ? "prefix:/v1/AUTH_fuzz/cont/" + *params->prefix : path;
  std::int64_t now = params->expires;
  for (std::string_view method : {"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"}) {
    bool valid = sw::tempurl_valid(*params, kKeys, method, path, now);
    if (valid) {
      // Only the right HMAC gets in.
      bool matches = false;
      for (const auto& key : kKeys) {
        for (std::string_view m : {method, std::string_view("GET"), std::string_view("POST"), std::string_view("PUT")}) {
          if (m != method && method != "HEAD") { continue; }
          matches = matches || sw::tempurl_signature(params->digest, key, m, params->expires, signed_path) == params->sig;
        }
      }
      FUZZ_CHECK(matches);
    }
    FUZZ_CHECK(!sw::tempurl_valid(*params, kKeys, method, path, now + 1));  // expired
    FUZZ_CHECK(!sw::tempurl_valid(*params, {}, method, path, now));
    // With the correct signature the same parameters validate, for the methods temp URLs serve.
    sw::TempUrlParams good = *params;
    good.sig = sw::tempurl_signature(good.digest, kKeys[1], method, good.expires, signed_path);
    bool served = method != "PATCH" && good.expires > 0;
    FUZZ_CHECK(sw::tempurl_valid(good, kKeys, method, path, now) == served);
  }
  return 0;
}
