#include "object/s3/sigv4.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "core/crypto/crypto.h"
#include "core/time.h"

namespace ciel::object::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr std::int64_t kMaxPresignedExpires = 604'800;  // seven days, S3's limit

// S3 answers AuthorizationHeaderMalformed and AuthorizationQueryParametersError with these
// openings; the rest says which part is wrong.
Error header_malformed(std::string_view what) {
  return make_error(Errc::invalid_argument, "The authorization header is malformed; " + std::string(what));
}
Error query_malformed(std::string_view what) {
  return make_error(Errc::invalid_argument, "Error parsing the presigned query parameters; " + std::string(what));
}
Error v2_malformed(std::string_view what) {
  return make_error(Errc::invalid_argument, "The AWS signature version 2 credentials are malformed; " + std::string(what));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_hex_lower(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) { c = to_lower(c); }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) { return false; }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) { return false; }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) { s.remove_prefix(1); }
  while (!s.empty() && is_blank(s.back())) { s.remove_suffix(1); }
  return s;
}

// Visible ASCII and anything above it (UTF-8), but no space, control character or DEL: the
// parts of a credential end up between '/', ',' and ' ' separators.
bool plain_token(std::string_view s) {
  if (s.empty()) { return false; }
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

// RFC 9110 token characters, for signed header names.
bool header_token(std::string_view s) {
  if (s.empty()) { return false; }
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || is_digit(c)) { return true; }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (i >= s.size() || !is_digit(s[i])) { return std::nullopt; }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::optional<std::int64_t> to_unix(int y, int mo, int d, int h, int mi, int s) {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) { return std::nullopt; }
  if (static_cast<unsigned>(d) > days_in_month(y, static_cast<unsigned>(mo))) { return std::nullopt; }
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86'400 + h * 3'600 + mi * 60 + s;
}

// The yyyymmddThhmmssZ form of a unix time; nullopt outside years 0000 to 9999, which the
// form cannot hold.
std::optional<std::string> format_amz_date(std::int64_t t) {
  std::int64_t days = t >= 0 ? t / 86'400 : (t - 86'399) / 86'400;
  std::int64_t secs = t - days * 86'400;
  CivilDate c = civil_from_days(days);
  if (c.year < 0 || c.year > 9999) { return std::nullopt; }
  std::string out;
  auto put = [&out](std::int64_t v, std::size_t width) {
    std::string d(width, '0');
    for (std::size_t i = width; i-- > 0; v /= 10) { d[i] = static_cast<char>('0' + v % 10); }
    out += d;
  };
  put(c.year, 4);
  put(c.month, 2);
  put(c.day, 2);
  out.push_back('T');
  put(secs / 3600, 2);
  put(secs / 60 % 60, 2);
  put(secs % 60, 2);
  out.push_back('Z');
  return out;
}

// "AK/yyyymmdd/region/service/aws4_request" into `sig`. The scope's four parts are taken from
// the right, so an access key holding '/' still parses. Returns what is wrong, or empty.
std::string_view parse_credential(std::string_view cred, SigV4& sig) {
  std::array<std::string_view, 4> parts;
  for (std::size_t i = 4; i-- > 0;) {
    std::size_t slash = cred.rfind('/');
    if (slash == std::string_view::npos) { return "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\""; }
    parts[i] = cred.substr(slash + 1);
    cred = cred.substr(0, slash);
  }
  if (!plain_token(cred)) { return "the Credential has no access key"; }
  if (parts[0].size() != 8 || !parse_amz_date(std::string(parts[0]) + "T000000Z")) { return "the Credential's date is not yyyymmdd"; }
  if (!plain_token(parts[1])) { return "the Credential has no region"; }
  if (!plain_token(parts[2])) { return "the Credential has no service"; }
  if (parts[3] != kTerminator) { return "the Credential does not end with aws4_request"; }
  sig.access_key = std::string(cred);
  sig.date = std::string(parts[0]);
  sig.region = std::string(parts[1]);
  sig.service = std::string(parts[2]);
  return {};
}

// "host;range;x-amz-date" into `sig.signed_headers`, lowercased, in the order sent.
std::string_view parse_signed_headers(std::string_view list, SigV4& sig) {
  if (list.empty()) { return "SignedHeaders is empty"; }
  std::vector<std::string> names;
  while (true) {
    std::size_t semi = list.find(';');
    std::string_view name = list.substr(0, semi);
    if (!header_token(name)) { return "SignedHeaders holds an empty or invalid header name"; }
    std::string l = lower(name);
    if (std::find(names.begin(), names.end(), l) != names.end()) { return "SignedHeaders names a header twice"; }
    names.push_back(std::move(l));
    if (semi == std::string_view::npos) { break; }
    list.remove_prefix(semi + 1);
  }
  // SigV4 requires the host to be signed; without it a signature would be good for any host.
  if (std::find(names.begin(), names.end(), "host") == names.end()) { return "SignedHeaders must include host"; }
  sig.signed_headers = std::move(names);
  return {};
}

std::string_view parse_signature_hex(std::string_view hex, SigV4& sig) {
  if (hex.size() != 64) { return "the Signature is not 64 hexadecimal digits"; }
  std::string l = lower(hex);
  if (!std::all_of(l.begin(), l.end(), is_hex_lower)) { return "the Signature is not 64 hexadecimal digits"; }
  sig.signature = std::move(l);
  return {};
}

// S3 refuses a scope whose date is not the request's day ("Invalid credential date").
std::string_view check_scope_date(const SigV4& sig) {
  if (!sig.amz_date.starts_with(sig.date)) { return "the Credential's date is not the date of X-Amz-Date"; }
  return {};
}

const std::string* unique_param(const std::vector<std::pair<std::string, std::string>>& query, std::string_view name,
                                bool& duplicated) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : query) {
    if (k != name) { continue; }
    if (found != nullptr) { duplicated = true; }
    found = &v;
  }
  return found;
}

std::optional<std::int64_t> parse_decimal(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits || !std::all_of(s.begin(), s.end(), is_digit)) { return std::nullopt; }
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// The value a (possibly repeated) header is signed with: each occurrence trimmed, runs of
// blanks inside collapsed to one space, occurrences joined by ','. nullopt when absent.
std::optional<std::string> canonical_header_value(const SignedRequest& req, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& [k, v] : req.headers) {
    if (!iequals(k, name)) { continue; }
    if (out) {
      out->push_back(',');
    } else {
      out.emplace();
    }
    std::string_view t = trim(v);
    bool blank = false;
    for (char c : t) {
      if (is_blank(c)) {
        blank = true;
        continue;
      }
      if (blank) { out->push_back(' '); }
      blank = false;
      out->push_back(c);
    }
  }
  return out;
}

int hex_digit(char c) {
  if (is_digit(c)) { return c - '0'; }
  if (c >= 'a' && c <= 'f') { return c - 'a' + 10; }
  if (c >= 'A' && c <= 'F') { return c - 'A' + 10; }
  return -1;
}

// %XX decoded; a '%' that starts no valid escape stays as it is (it is then encoded as %25).
std::string lenient_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string canonical_uri(std::string_view raw_path) {
  if (raw_path.empty()) { return "/"; }
  std::string out;
  out.reserve(raw_path.size());
  // Segment by segment, so an encoded slash (%2F) inside a name stays encoded.
  while (true) {
    std::size_t slash = raw_path.find('/');
    out += uri_encode(lenient_decode(raw_path.substr(0, slash)), false);
    if (slash == std::string_view::npos) { break; }
    out.push_back('/');
    raw_path.remove_prefix(slash + 1);
  }
  return out;
}

std::string scope(const SigV4& sig) {
  std::string out;
  out.reserve(sig.date.size() + sig.region.size() + sig.service.size() + kTerminator.size() + 3);
  out.append(sig.date).append("/").append(sig.region).append("/").append(sig.service).append("/").append(kTerminator);
  return out;
}

}  // namespace

Result<SigV4> parse_sigv4_header(std::string_view authorization, std::string_view amz_date) {
  if (!authorization.starts_with(kAlgorithm) || authorization.size() == kAlgorithm.size() ||
      !is_blank(authorization[kAlgorithm.size()])) {
    return header_malformed("the algorithm must be AWS4-HMAC-SHA256");
  }
  std::string_view rest = authorization.substr(kAlgorithm.size());
  SigV4 sig;
  bool have_credential = false;
  bool have_signed_headers = false;
  bool have_signature = false;
  while (true) {
    std::size_t comma = rest.find(',');
    std::string_view part = trim(rest.substr(0, comma));
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) { return header_malformed("expected Credential=, SignedHeaders= and Signature= separated by commas"); }
    std::string_view key = part.substr(0, eq);
    std::string_view value = part.substr(eq + 1);
    std::string_view problem;
    bool* seen = nullptr;
    if (key == "Credential") {
      seen = &have_credential;
      problem = parse_credential(value, sig);
    } else if (key == "SignedHeaders") {
      seen = &have_signed_headers;
      problem = parse_signed_headers(value, sig);
    } else if (key == "Signature") {
      seen = &have_signature;
      problem = parse_signature_hex(value, sig);
    } else {
      Error e = header_malformed("expected only Credential, SignedHeaders and Signature");
      e.detail = "unknown component: " + std::string(key.substr(0, 64));
      return e;
    }
    if (*seen) { return header_malformed(std::string(key) + " is given twice"); }
    *seen = true;
    if (!problem.empty()) { return header_malformed(problem); }
    if (comma == std::string_view::npos) { break; }
    rest.remove_prefix(comma + 1);
  }
  if (!have_credential) { return header_malformed("missing Credential"); }
  if (!have_signed_headers) { return header_malformed("missing SignedHeaders"); }
  if (!have_signature) { return header_malformed("missing Signature"); }

  // The string to sign always carries the basic ISO 8601 form, also when the client dated the
  // request with an RFC 1123 Date header.
  std::string_view date = trim(amz_date);
  if (date.empty()) { return header_malformed("the request has neither X-Amz-Date nor Date"); }
  if (parse_amz_date(date)) {
    sig.amz_date = std::string(date);
  } else if (auto t = parse_http_date(date); t && format_amz_date(*t)) {
    sig.amz_date = *format_amz_date(*t);
  } else {
    return header_malformed("X-Amz-Date is not yyyymmddThhmmssZ");
  }
  if (auto problem = check_scope_date(sig); !problem.empty()) { return header_malformed(problem); }
  return sig;
}

Result<SigV4> parse_sigv4_query(const std::vector<std::pair<std::string, std::string>>& query) {
  bool duplicated = false;
  const std::string* algorithm = unique_param(query, "X-Amz-Algorithm", duplicated);
  const std::string* credential = unique_param(query, "X-Amz-Credential", duplicated);
  const std::string* date = unique_param(query, "X-Amz-Date", duplicated);
  const std::string* expires = unique_param(query, "X-Amz-Expires", duplicated);
  const std::string* signed_headers = unique_param(query, "X-Amz-SignedHeaders", duplicated);
  const std::string* signature = unique_param(query, "X-Amz-Signature", duplicated);
  if (algorithm == nullptr || credential == nullptr || date == nullptr || expires == nullptr || signed_headers == nullptr ||
      signature == nullptr) {
    return make_error(Errc::invalid_argument,
                      "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
                      "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
  }
  if (duplicated) { return query_malformed("a signature parameter is given twice"); }
  if (*algorithm != kAlgorithm) { return query_malformed("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""); }
  SigV4 sig;
  sig.presigned = true;
  if (auto problem = parse_credential(*credential, sig); !problem.empty()) { return query_malformed(problem); }
  if (auto problem = parse_signed_headers(*signed_headers, sig); !problem.empty()) { return query_malformed(problem); }
  if (auto problem = parse_signature_hex(*signature, sig); !problem.empty()) { return query_malformed(problem); }
  if (!parse_amz_date(*date)) { return query_malformed("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""); }
  sig.amz_date = *date;
  if (auto problem = check_scope_date(sig); !problem.empty()) { return query_malformed(problem); }
  auto seconds = parse_decimal(*expires, 10);
  if (!seconds) { return query_malformed("X-Amz-Expires should be a number"); }
  if (*seconds < 1) { return query_malformed("X-Amz-Expires must be non-negative and at least 1"); }
  if (*seconds > kMaxPresignedExpires) { return query_malformed("X-Amz-Expires must be less than a week (in seconds) that is 604800"); }
  sig.expires_s = *seconds;
  return sig;
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || is_digit(c) || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

Result<std::string> canonical_request(const SignedRequest& req, const SigV4& sig, std::string_view payload_hash) {
  std::string out;
  out.append(req.method).push_back('\n');
  out.append(canonical_uri(req.raw_path)).push_back('\n');

  std::vector<std::pair<std::string, std::string>> query;
  query.reserve(req.query.size());
  for (const auto& [k, v] : req.query) {
    if (sig.presigned && k == "X-Amz-Signature") { continue; }
    query.emplace_back(uri_encode(k, false), uri_encode(v, false));
  }
  std::sort(query.begin(), query.end());
  for (std::size_t i = 0; i < query.size(); ++i) {
    if (i > 0) { out.push_back('&'); }
    out.append(query[i].first).append("=").append(query[i].second);
  }
  out.push_back('\n');

  for (const auto& name : sig.signed_headers) {
    auto value = canonical_header_value(req, name);
    if (!value) {
      return make_error(Errc::invalid_argument, "A header named in SignedHeaders is missing from the request",
                        "signed header absent: " + name.substr(0, 128));
    }
    out.append(lower(name)).append(":").append(*value).push_back('\n');
  }
  out.push_back('\n');
  for (std::size_t i = 0; i < sig.signed_headers.size(); ++i) {
    if (i > 0) { out.push_back(';'); }
    out.append(lower(sig.signed_headers[i]));
  }
  out.push_back('\n');
  out.append(payload_hash);
  return out;
}

std::string string_to_sign(const SigV4& sig, std::string_view canonical) {
  std::string out(kAlgorithm);
  out.append("\n").append(sig.amz_date).append("\n").append(scope(sig)).append("\n").append(crypto::hex(crypto::sha256(canonical)));
  return out;
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region, std::string_view service) {
  std::string k = crypto::hmac_sha256("AWS4" + std::string(secret), date);
  k = crypto::hmac_sha256(k, region);
  k = crypto::hmac_sha256(k, service);
  return crypto::hmac_sha256(k, kTerminator);
}

std::string sign(std::string_view key, std::string_view string_to_sign) {
  return crypto::hex(crypto::hmac_sha256(key, string_to_sign));
}

std::string chunk_string_to_sign(const SigV4& sig, std::string_view previous_signature, std::string_view chunk_sha256_hex) {
  std::string out = "AWS4-HMAC-SHA256-PAYLOAD\n";
  out.append(sig.amz_date).append("\n").append(scope(sig)).append("\n").append(previous_signature).append("\n");
  out.append(kEmptySha256).append("\n").append(chunk_sha256_hex);
  return out;
}

std::optional<std::int64_t> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') { return std::nullopt; }
  auto y = digits(s, 0, 4);
  auto mo = digits(s, 4, 2);
  auto d = digits(s, 6, 2);
  auto h = digits(s, 9, 2);
  auto mi = digits(s, 11, 2);
  auto sec = digits(s, 13, 2);
  if (!y || !mo || !d || !h || !mi || !sec) { return std::nullopt; }
  return to_unix(*y, *mo, *d, *h, *mi, *sec);
}

std::optional<std::int64_t> parse_http_date(std::string_view s) {
  // [Wkd ","] DD Mon YYYY hh:mm:ss zone, where zone is GMT (RFC 1123) or, as S3's own
  // examples and many V2 clients send it, UT, UTC, Z or a numeric offset such as +0000.
  s = trim(s);
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() >= 4 && s[3] == ',') {
    if (std::none_of(kDays.begin(), kDays.end(), [&](std::string_view d) { return iequals(d, s.substr(0, 3)); })) {
      return std::nullopt;
    }
    s.remove_prefix(4);
    s = trim(s);
  }
  std::size_t day_len = s.size() >= 2 && is_digit(s[1]) ? 2 : 1;
  auto day = digits(s, 0, day_len);
  if (!day || s.size() < day_len + 1 || s[day_len] != ' ') { return std::nullopt; }
  s.remove_prefix(day_len + 1);
  if (s.size() < 4 || s[3] != ' ') { return std::nullopt; }
  auto month = std::find_if(kMonths.begin(), kMonths.end(), [&](std::string_view m) { return iequals(m, s.substr(0, 3)); });
  if (month == kMonths.end()) { return std::nullopt; }
  s.remove_prefix(4);
  // "YYYY hh:mm:ss "
  if (s.size() < 14 || s[4] != ' ' || s[7] != ':' || s[10] != ':' || s[13] != ' ') { return std::nullopt; }
  auto year = digits(s, 0, 4);
  auto hour = digits(s, 5, 2);
  auto minute = digits(s, 8, 2);
  auto second = digits(s, 11, 2);
  if (!year || !hour || !minute || !second) { return std::nullopt; }
  std::string_view zone = s.substr(14);
  std::int64_t offset = 0;
  if (zone == "GMT" || zone == "UTC" || zone == "UT" || zone == "Z") {
    offset = 0;
  } else if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-')) {
    auto oh = digits(zone, 1, 2);
    auto om = digits(zone, 3, 2);
    if (!oh || !om || *oh > 23 || *om > 59) { return std::nullopt; }
    offset = (*oh * 3600 + *om * 60) * (zone[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  auto t = to_unix(*year, static_cast<int>(month - kMonths.begin()) + 1, *day, *hour, *minute, *second);
  if (!t) { return std::nullopt; }
  return *t - offset;
}

// --- Signature Version 2 ----------------------------------------------------------------------

namespace {

// A V2 signature is base64 of a 20-byte HMAC-SHA1. It is kept in canonical base64, so the
// caller can compare it with sigv2_sign()'s output byte for byte.
std::optional<std::string> canonical_v2_signature(std::string text) {
  // A '+' sent unencoded in a query string arrives decoded as a space.
  std::replace(text.begin(), text.end(), ' ', '+');
  auto raw = crypto::unbase64(text);
  if (!raw || raw->size() != 20) { return std::nullopt; }
  return crypto::base64(*raw);
}

const std::string* first_header(const SignedRequest& req, std::string_view name) {
  for (const auto& [k, v] : req.headers) {
    if (iequals(k, name)) { return &v; }
  }
  return nullptr;
}

// The sub-resources S3 signs in a V2 canonical resource; everything else in the query is not.
bool v2_subresource(std::string_view name) {
  static constexpr std::array<std::string_view, 20> kNames = {
      "acl", "cors", "delete", "lifecycle", "location", "partNumber", "policy", "tagging", "uploadId", "uploads", "versionId",
      "versioning", "versions", "website", "response-content-type", "response-content-language", "response-expires",
      "response-cache-control", "response-content-disposition", "response-content-encoding"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

}  // namespace

Result<SigV2> parse_sigv2_header(std::string_view authorization) {
  if (!authorization.starts_with("AWS ")) { return v2_malformed("expected \"AWS AccessKeyId:Signature\""); }
  std::string_view rest = authorization.substr(4);
  std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) { return v2_malformed("expected \"AWS AccessKeyId:Signature\""); }
  std::string_view access_key = rest.substr(0, colon);
  if (!plain_token(access_key)) { return v2_malformed("the access key is empty or holds a blank"); }
  auto signature = canonical_v2_signature(std::string(rest.substr(colon + 1)));
  if (!signature) { return v2_malformed("the signature is not a base64 HMAC-SHA1"); }
  SigV2 sig;
  sig.access_key = std::string(access_key);
  sig.signature = std::move(*signature);
  return sig;
}

Result<SigV2> parse_sigv2_query(const std::vector<std::pair<std::string, std::string>>& query) {
  bool duplicated = false;
  const std::string* access_key = unique_param(query, "AWSAccessKeyId", duplicated);
  const std::string* signature = unique_param(query, "Signature", duplicated);
  const std::string* expires = unique_param(query, "Expires", duplicated);
  if (access_key == nullptr || signature == nullptr || expires == nullptr) {
    return make_error(Errc::invalid_argument,
                      "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters");
  }
  if (duplicated) { return v2_malformed("a signature parameter is given twice"); }
  if (!plain_token(*access_key)) { return v2_malformed("AWSAccessKeyId is empty or holds a blank"); }
  auto canonical = canonical_v2_signature(*signature);
  if (!canonical) { return v2_malformed("Signature is not a base64 HMAC-SHA1"); }
  // 18 digits keep any value far from overflow while allowing any date a client could mean.
  auto seconds = parse_decimal(*expires, 18);
  if (!seconds) { return v2_malformed("Expires is not a number of seconds since 1970"); }
  SigV2 sig;
  sig.access_key = *access_key;
  sig.signature = std::move(*canonical);
  sig.presigned = true;
  sig.expires_s = *seconds;
  return sig;
}

std::string sigv2_string_to_sign(const SignedRequest& req, const SigV2& sig) {
  auto header = [&](std::string_view name) {
    const std::string* v = first_header(req, name);
    return v == nullptr ? std::string() : std::string(trim(*v));
  };
  std::string out = req.method;
  out.append("\n").append(header("Content-MD5"));
  out.append("\n").append(header("Content-Type"));
  out.push_back('\n');
  if (sig.presigned) {
    out.append(std::to_string(sig.expires_s));
  } else if (first_header(req, "x-amz-date") == nullptr) {
    out.append(header("Date"));
  }
  out.push_back('\n');

  // x-amz-* headers: lowercase names in order, repeated ones joined by ',' in the order sent.
  std::vector<std::pair<std::string, std::string_view>> amz;
  for (const auto& [k, v] : req.headers) {
    std::string name = lower(trim(k));
    if (name.starts_with("x-amz-")) { amz.emplace_back(std::move(name), trim(v)); }
  }
  std::stable_sort(amz.begin(), amz.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < amz.size(); ++i) {
    if (i > 0 && amz[i].first == amz[i - 1].first) {
      out.back() = ',';
    } else {
      out.append(amz[i].first).push_back(':');
    }
    out.append(amz[i].second).push_back('\n');
  }

  out.append(req.raw_path.empty() ? std::string_view("/") : std::string_view(req.raw_path));
  std::vector<const std::pair<std::string, std::string>*> subresources;
  for (const auto& p : req.query) {
    if (v2_subresource(p.first)) { subresources.push_back(&p); }
  }
  std::stable_sort(subresources.begin(), subresources.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  for (std::size_t i = 0; i < subresources.size(); ++i) {
    out.push_back(i == 0 ? '?' : '&');
    out.append(subresources[i]->first);
    // Values go in decoded, as S3 signs them; a sub-resource without one is the bare name.
    if (!subresources[i]->second.empty()) { out.append("=").append(subresources[i]->second); }
  }
  return out;
}

std::string sigv2_sign(std::string_view secret, std::string_view string_to_sign) {
  return crypto::base64(crypto::hmac_sha1(secret, string_to_sign));
}

}  // namespace ciel::object::s3
