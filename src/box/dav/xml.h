// box/dav/xml.h: the XML of WebDAV (RFC 4918) request bodies: PROPFIND, PROPPATCH and LOCK.
// pugixml (which knows nothing of namespaces) stays inside xml.cc, which resolves prefixes
// itself. Parsers refuse malformed or over-deep documents with Errc::invalid_argument and never
// throw; each is fuzzed (tests/fuzz/dav_fuzz.cc).
#pragma once
#include <cstdint>
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
  std::string text;     // set: the element's text content (oc:favorite's "1", a comment's oc:message)
};
// In document order (RFC 4918 9.2: instructions apply in order).
Result<std::vector<PropUpdate>> parse_proppatch(std::string_view xml);

struct LockInfo {
  bool exclusive = true;
  std::string owner_xml;  // the <owner> element as sent (namespaces declared), or ""
};
// nullopt for an empty body (a refresh).
Result<std::optional<LockInfo>> parse_lockinfo(std::string_view xml);

// REPORT oc:filter-files (Nextcloud's favorites and tag filters) on a files root: the
// properties to return, then rules that must all hold, then an optional page.
struct FilterFilesRequest {
  PropfindRequest props;  // <d:prop> (allprop when absent)
  bool favorite = false;  // <oc:favorite>1</oc:favorite>
  std::vector<std::int64_t> systemtags;  // <oc:systemtag>ID</oc:systemtag>, each must be on the file
  std::size_t limit = 0;   // <oc:search><oc:limit>: 0 for no limit
  std::size_t offset = 0;  // <oc:search><oc:offset>
};
// Errc::invalid_argument also for a rule with a value that is not a number, and for no rule.
Result<FilterFilesRequest> parse_filter_files(std::string_view xml);

// REPORT oc:filter-comments on /comments/files/<id>: a page of the comments, newest first.
struct FilterCommentsRequest {
  std::size_t limit = 20;   // <oc:limit>, at most 500
  std::size_t offset = 0;   // <oc:offset>
};
Result<FilterCommentsRequest> parse_filter_comments(std::string_view xml);

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
