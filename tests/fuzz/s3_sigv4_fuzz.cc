// Fuzzes the S3 signature parsers and canonicalisers (object/s3/sigv4.h). The whole input goes
// to each parser; it is also read as a request ("METHOD target" then "name: value" lines) whose
// canonical request and V2 string to sign are built. Whatever the bytes: a refusal is
// Errc::invalid_argument with a message, and what parses is well formed and parses again the
// same once printed back in its canonical form.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/crypto.h"
#include "core/http/target.h"
#include "core/time.h"
#include "fuzz_check.h"
#include "object/s3/sigv4.h"

namespace {

namespace s3 = ciel::object::s3;
using ciel::Errc;
using Pairs = std::vector<std::pair<std::string, std::string>>;

bool lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) { return false; }
  }
  return true;
}

void check_refusal(const ciel::Error& e) {
  FUZZ_CHECK(e.code == Errc::invalid_argument);
  FUZZ_CHECK(!e.message.empty());
}

// yyyymmddThhmmssZ by std::chrono's calendar, independently of sigv4.cc's arithmetic.
std::string amz_date_of(std::int64_t t) {
  using namespace std::chrono;
  auto days = floor<std::chrono::days>(sys_seconds(seconds(t)));
  year_month_day ymd(days);
  hh_mm_ss<seconds> hms(sys_seconds(seconds(t)) - days);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02lld%02lld%02lldZ", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long long>(hms.hours().count()),
                static_cast<long long>(hms.minutes().count()), static_cast<long long>(hms.seconds().count()));
  return buf;
}

void check_scope(const s3::SigV4& sig) {
  FUZZ_CHECK(!sig.access_key.empty() && !sig.region.empty() && !sig.service.empty());
  FUZZ_CHECK(sig.date.size() == 8 && s3::parse_amz_date(sig.date + "T000000Z"));
  FUZZ_CHECK(s3::parse_amz_date(sig.amz_date));
  FUZZ_CHECK(sig.amz_date.starts_with(sig.date));
  FUZZ_CHECK(sig.signature.size() == 64 && lower_hex(sig.signature));
  FUZZ_CHECK(!sig.signed_headers.empty());
  bool host = false;
  for (const auto& h : sig.signed_headers) {
    FUZZ_CHECK(!h.empty() && h.find(';') == std::string::npos);
    for (char c : h) { FUZZ_CHECK(!(c >= 'A' && c <= 'Z')); }
    host = host || h == "host";
  }
  FUZZ_CHECK(host);
}

std::string credential(const s3::SigV4& sig) {
  return sig.access_key + "/" + sig.date + "/" + sig.region + "/" + sig.service + "/aws4_request";
}
std::string signed_header_list(const s3::SigV4& sig) {
  std::string out;
  for (const auto& h : sig.signed_headers) { out += (out.empty() ? "" : ";") + h; }
  return out;
}

bool same(const s3::SigV4& a, const s3::SigV4& b) {
  return a.access_key == b.access_key && a.date == b.date && a.region == b.region && a.service == b.service &&
         a.signed_headers == b.signed_headers && a.signature == b.signature && a.amz_date == b.amz_date &&
         a.presigned == b.presigned && a.expires_s == b.expires_s;
}

void fuzz_v4_header(std::string_view text) {
  std::size_t nl = text.find('\n');
  std::string_view authorization = text.substr(0, nl);
  std::string_view date = nl == std::string_view::npos ? std::string_view("20240101T000000Z") : text.substr(nl + 1);
  auto sig = s3::parse_sigv4_header(authorization, date);
  if (!sig) {
    check_refusal(sig.error());
    return;
  }
  check_scope(*sig);
  FUZZ_CHECK(!sig->presigned);
  // Printed back in the usual form, it parses to the same thing (the date now in basic form).
  auto again = s3::parse_sigv4_header("AWS4-HMAC-SHA256 Credential=" + credential(*sig) + ", SignedHeaders=" +
                                          signed_header_list(*sig) + ", Signature=" + sig->signature,
                                      sig->amz_date);
  FUZZ_CHECK(again && same(*sig, *again));
}

void fuzz_v4_query(const Pairs& query) {
  auto sig = s3::parse_sigv4_query(query);
  if (!sig) {
    check_refusal(sig.error());
    return;
  }
  check_scope(*sig);
  FUZZ_CHECK(sig->presigned);
  FUZZ_CHECK(sig->expires_s >= 1 && sig->expires_s <= 604800);
  Pairs printed = {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
                   {"X-Amz-Credential", credential(*sig)},
                   {"X-Amz-Date", sig->amz_date},
                   {"X-Amz-Expires", std::to_string(sig->expires_s)},
                   {"X-Amz-SignedHeaders", signed_header_list(*sig)},
                   {"X-Amz-Signature", sig->signature}};
  auto again = s3::parse_sigv4_query(printed);
  FUZZ_CHECK(again && same(*sig, *again));
}

void check_v2(const s3::SigV2& sig) {
  FUZZ_CHECK(!sig.access_key.empty());
  auto raw = ciel::crypto::unbase64(sig.signature);
  FUZZ_CHECK(raw && raw->size() == 20 && ciel::crypto::base64(*raw) == sig.signature);
}

void fuzz_v2(std::string_view text, const Pairs& query) {
  auto header = s3::parse_sigv2_header(text);
  if (header) {
    check_v2(*header);
    FUZZ_CHECK(!header->presigned);
    auto again = s3::parse_sigv2_header("AWS " + header->access_key + ":" + header->signature);
    FUZZ_CHECK(again && again->access_key == header->access_key && again->signature == header->signature);
  } else {
    check_refusal(header.error());
  }
  auto q = s3::parse_sigv2_query(query);
  if (q) {
    check_v2(*q);
    FUZZ_CHECK(q->presigned && q->expires_s >= 0);
  } else {
    check_refusal(q.error());
  }
}

void fuzz_dates(std::string_view text) {
  if (auto t = s3::parse_amz_date(text)) {
    FUZZ_CHECK(amz_date_of(*t) == text);  // one text per instant: the parse is exact
  }
  if (auto t = s3::parse_http_date(text)) {
    // Years 0000 to 9999, shifted by at most a day's offset.
    FUZZ_CHECK(*t >= -62167219200 - 86400 && *t <= 253402300799 + 86400);
    // Where core's strict RFC 1123 parser also reads the text, both agree.
    if (text.size() == 29 && text.ends_with(" GMT")) {
      if (auto core = ciel::parse_http_date(text)) { FUZZ_CHECK(ciel::unix_seconds(*core) == *t); }
    }
  }
}

void fuzz_uri_encode(std::string_view text) {
  for (bool keep_slash : {false, true}) {
    std::string enc = s3::uri_encode(text, keep_slash);
    for (char c : enc) {
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                c == '~' || c == '%' || (keep_slash && c == '/');
      FUZZ_CHECK(ok);
    }
    auto back = ciel::http::percent_decode(enc);
    FUZZ_CHECK(back && *back == text);
  }
}

// "METHOD target\nName: value\n..." as a request, signed with the parsed header's scope when the
// input holds one, or with every header it names.
void fuzz_request(std::string_view text) {
  s3::SignedRequest req;
  std::size_t nl = text.find('\n');
  std::string_view first = text.substr(0, nl);
  std::string_view rest = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  std::size_t sp = first.find(' ');
  req.method = std::string(first.substr(0, sp));
  std::string_view target = sp == std::string_view::npos ? std::string_view() : first.substr(sp + 1);
  std::size_t q = target.find('?');
  req.raw_path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) { req.query = ciel::http::parse_query(target.substr(q + 1)); }
  std::string authorization;
  std::string amz_date;
  while (!rest.empty()) {
    nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) { continue; }
    std::string name(line.substr(0, colon));
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) { v.remove_prefix(1); }
    std::string value(v);
    if (name == "Authorization") { authorization = value; }
    if (name == "X-Amz-Date") { amz_date = value; }
    req.headers.emplace_back(std::move(name), std::move(value));
  }

  s3::SigV4 sig;
  if (auto parsed = s3::parse_sigv4_header(authorization, amz_date)) {
    sig = *parsed;
  } else if (auto presigned = s3::parse_sigv4_query(req.query)) {
    sig = *presigned;
  } else {
    sig.date = "20240101";
    sig.region = "r";
    sig.service = "s3";
    sig.amz_date = "20240101T000000Z";
    for (std::size_t i = 0; i < req.headers.size() && i < 8; ++i) { sig.signed_headers.push_back(req.headers[i].first); }
  }
  auto canonical = s3::canonical_request(req, sig, s3::kUnsignedPayload);
  if (canonical) {
    FUZZ_CHECK(canonical->starts_with(req.method + "\n"));
    FUZZ_CHECK(canonical->ends_with("\nUNSIGNED-PAYLOAD"));
    std::string sts = s3::string_to_sign(sig, *canonical);
    FUZZ_CHECK(sts.starts_with("AWS4-HMAC-SHA256\n"));
    std::string key = s3::signing_key("secret", sig.date, sig.region, sig.service);
    FUZZ_CHECK(key.size() == 32);
    std::string signature = s3::sign(key, sts);
    FUZZ_CHECK(signature.size() == 64 && lower_hex(signature));
    FUZZ_CHECK(s3::chunk_string_to_sign(sig, signature, s3::kEmptySha256).starts_with("AWS4-HMAC-SHA256-PAYLOAD\n"));
  } else {
    check_refusal(canonical.error());
  }

  s3::SigV2 v2;
  if (auto presigned = s3::parse_sigv2_query(req.query)) { v2 = *presigned; }
  std::string sts = s3::sigv2_string_to_sign(req, v2);
  FUZZ_CHECK(sts.starts_with(req.method + "\n"));
  FUZZ_CHECK(sts.find(req.raw_path.empty() ? std::string("/") : req.raw_path) != std::string::npos);
  FUZZ_CHECK(s3::sigv2_sign("secret", sts).size() == 28);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto query = ciel::http::parse_query(text);
  fuzz_v4_header(text);
  fuzz_v4_query(query);
  fuzz_v2(text, query);
  fuzz_dates(text);
  fuzz_uri_encode(text);
  fuzz_request(text);
  return 0;
}
