// box/dav/xml.h: the XML of WebDAV (RFC 4918) request bodies: PROPFIND, PROPPATCH and LOCK.
// pugixml (which knows nothing of namespaces) stays inside xml.cc, which resolves prefixes
// itself. Parsers refuse malformed or over-deep documents with Errc::invalid_argument and never
// throw; each is fuzzed (tests/fuzz/dav_fuzz.cc).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ciel::box::dav {

inline constexpr std::string_view kDavNs = "DAV:";
inline constexpr std::string_view kOcNs = "http://owncloud.org/ns";
inline constexpr std::string_view kNcNs = "http://nextcloud.org/ns";

struct PropName {
  std::string ns, name;
  bool operator==(const PropName&) const = default;
};

struct PropfindRequest {
  enum class Kind { allprop, propname, prop } kind = Kind::allprop;
  std::vector<PropName> props;    // Kind::prop
  std::vector<PropName> include;  // allprop's <include>
};
// An empty body is allprop.
Result<PropfindRequest> parse_propfind(std::string_view xml);

struct PropUpdate {
  bool set = true;
  PropName name;
  std::string element;  // set: the whole property element, with every namespace it uses declared on it
};
// In document order (RFC 4918 9.2: instructions apply in order).
Result<std::vector<PropUpdate>> parse_proppatch(std::string_view xml);

struct LockInfo {
  bool exclusive = true;
  std::string owner_xml;  // the <owner> element as sent (namespaces declared), or ""
};
// nullopt for an empty body (a refresh).
Result<std::optional<LockInfo>> parse_lockinfo(std::string_view xml);

// Text escaped for XML character data and attribute values.
std::string escape(std::string_view text);

// The If header (RFC 4918 10.4): lists of conditions, each list tagged with a resource or not.
struct IfCondition {
  bool negate = false;
  bool is_token = false;
  std::string value;  // the state token (without < >) or the entity tag (as sent, quotes kept)
};
struct IfList {
  std::string resource;  // the tag's URL as sent ("" for an untagged list)
  std::vector<IfCondition> conditions;
};
Result<std::vector<IfList>> parse_if(std::string_view header);

}  // namespace ciel::box::dav
