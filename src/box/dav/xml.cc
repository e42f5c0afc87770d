#include "box/dav/xml.h"

#include <pugixml.hpp>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <map>
#include <sstream>

#include "core/http/target.h"

namespace ciel::box::dav {
namespace {

constexpr std::size_t kMaxDepth = 64;
constexpr std::string_view kMalformed = "The request body is not well-formed XML";

// pugixml keeps an undefined entity reference ("&foo;") as text; XML calls it an error.
bool entities_ok(std::string_view xml) {
  static constexpr std::string_view kNamed[] = {"amp;", "lt;", "gt;", "quot;", "apos;"};
  for (std::size_t i = 0; i < xml.size(); ++i) {
    if (xml.substr(i, 9) == "<![CDATA[") {
      auto end = xml.find("]]>", i);
      if (end == std::string_view::npos) { return false; }
      i = end + 2;
      continue;
    }
    if (xml.substr(i, 4) == "<!--") {
      auto end = xml.find("-->", i);
      if (end == std::string_view::npos) { return false; }
      i = end + 2;
      continue;
    }
    if (xml[i] != '&') { continue; }
    auto rest = xml.substr(i + 1);
    bool ok = false;
    for (auto n : kNamed) { ok = ok || rest.starts_with(n); }
    if (!ok && rest.starts_with("#")) {
      std::size_t j = 1;
      bool hex = rest.size() > 1 && rest[1] == 'x';
      if (hex) { ++j; }
      std::size_t digits = 0;
      while (j < rest.size() && (hex ? std::isxdigit(static_cast<unsigned char>(rest[j])) : std::isdigit(static_cast<unsigned char>(rest[j])))) {
        ++j;
        ++digits;
      }
      ok = digits > 0 && j < rest.size() && rest[j] == ';';
    }
    if (!ok) { return false; }
  }
  return true;
}

// A character XML 1.0 allows in a document.
bool xml_char(std::uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
         (cp >= 0x10000 && cp <= 0x10FFFF);
}

// What pugixml would take but XML does not, and what would come back out of it in a stored
// property or lock owner: bytes that are not UTF-8, control characters, and character references
// to characters XML has not (&#0;, &#1;, &#xD800;).
bool acceptable_text(std::string_view xml) {
  if (!http::valid_utf8(xml)) { return false; }
  for (std::size_t i = 0; i < xml.size(); ++i) {
    auto c = static_cast<unsigned char>(xml[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') { return false; }
    if (c != '&' || xml.substr(i, 2) != "&#") { continue; }
    auto semi = xml.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) { return false; }
    bool hex = i + 2 < xml.size() && xml[i + 2] == 'x';
    std::string_view digits = xml.substr(i + (hex ? 3 : 2), semi - i - (hex ? 3 : 2));
    std::uint32_t cp = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || !xml_char(cp)) { return false; }
  }
  return true;
}

Result<pugi::xml_document*> load(pugi::xml_document& doc, std::string_view xml) {
  if (!entities_ok(xml)) { return make_error(Errc::invalid_argument, std::string(kMalformed), "undefined entity reference"); }
  if (!acceptable_text(xml)) { return make_error(Errc::invalid_argument, std::string(kMalformed)); }
  // parse_doctype keeps a DTD in the tree (pugixml skips it otherwise), so the check below sees it.
  auto r = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata_single | pugi::parse_doctype,
                           pugi::encoding_utf8);
  if (!r) { return make_error(Errc::invalid_argument, std::string(kMalformed), r.description()); }
  // pugixml accepts several top-level elements and DTDs; WebDAV bodies have one root and no DTD.
  int roots = 0;
  for (auto n : doc.children()) {
    if (n.type() == pugi::node_element) { ++roots; }
    if (n.type() == pugi::node_doctype) { return make_error(Errc::invalid_argument, "Document type declarations are not accepted"); }
  }
  if (roots != 1) { return make_error(Errc::invalid_argument, std::string(kMalformed)); }
  return &doc;
}

std::string_view prefix_of(std::string_view qname) {
  auto colon = qname.find(':');
  return colon == std::string_view::npos ? std::string_view() : qname.substr(0, colon);
}
std::string_view local_of(std::string_view qname) {
  auto colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// The namespace URI a prefix ("" for the default) stands for at `node`; nullopt when undeclared.
std::optional<std::string> lookup_ns(pugi::xml_node node, std::string_view prefix) {
  std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
  for (auto n = node; n && n.type() == pugi::node_element; n = n.parent()) {
    if (auto a = n.attribute(attr.c_str())) { return std::string(a.value()); }
  }
  if (prefix.empty()) { return std::string(); }
  if (prefix == "xml") { return std::string("http://www.w3.org/XML/1998/namespace"); }
  return std::nullopt;
}

Result<PropName> name_of(pugi::xml_node node) {
  auto ns = lookup_ns(node, prefix_of(node.name()));
  if (!ns) { return make_error(Errc::invalid_argument, "Undeclared namespace prefix in the request body"); }
  return PropName{*ns, std::string(local_of(node.name()))};
}

bool is(pugi::xml_node node, std::string_view ns, std::string_view local) {
  if (node.type() != pugi::node_element || local_of(node.name()) != local) { return false; }
  auto n = lookup_ns(node, prefix_of(node.name()));
  return n && *n == ns;
}

// Also refuses what XML Namespaces forbids: a prefix bound to the empty name (xmlns:p="").
Status check_depth(pugi::xml_node node, std::size_t depth) {
  if (depth > kMaxDepth) { return make_error(Errc::invalid_argument, "The request body is nested too deeply"); }
  for (auto a : node.attributes()) {
    if (std::string_view(a.name()).starts_with("xmlns:") && std::string_view(a.value()).empty()) {
      return make_error(Errc::invalid_argument, "A namespace prefix cannot be bound to an empty name");
    }
  }
  for (auto c : node.children()) {
    if (auto st = check_depth(c, depth + 1); !st) { return st; }
  }
  return {};
}

// `node` serialised on its own: every prefix used at or beneath it that is declared above it is
// declared on the copy. Errc::invalid_argument when a prefix is declared nowhere (the element
// could not be sent back as namespace-well-formed XML).
Result<std::string> self_contained(pugi::xml_node node) {
  pugi::xml_document out;
  auto copy = out.append_copy(node);
  std::map<std::string, std::string> needed;  // attribute name -> URI
  bool undeclared = false;
  // A prefix declared at or beneath `node` (on the way up from `n`) travels with the copy; one
  // declared above it is declared on the copy with the meaning it has at `node`.
  auto need = [&](pugi::xml_node n, std::string_view prefix) {
    std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
    for (auto m = n; m; m = m.parent()) {
      if (m.attribute(attr.c_str())) { return; }
      if (m == node) { break; }
    }
    if (auto uri = lookup_ns(node.parent(), prefix)) {
      needed.emplace(attr, *uri);
    } else {
      undeclared = true;
    }
  };
  auto collect = [&](auto&& self, pugi::xml_node n) -> void {
    if (n.type() != pugi::node_element) { return; }
    need(n, prefix_of(n.name()));
    for (auto a : n.attributes()) {
      std::string_view an = a.name();
      auto ap = prefix_of(an);
      if (!ap.empty() && ap != "xmlns" && ap != "xml") { need(n, ap); }
    }
    for (auto c : n.children()) { self(self, c); }
  };
  collect(collect, node);
  if (undeclared) { return make_error(Errc::invalid_argument, "Undeclared namespace prefix in the request body"); }
  for (const auto& [attr, uri] : needed) {
    if (!copy.attribute(attr.c_str())) { copy.append_attribute(attr.c_str()) = uri.c_str(); }
  }
  std::ostringstream s;
  copy.print(s, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return s.str();
}

}  // namespace

Result<PropfindRequest> parse_propfind(std::string_view xml) {
  PropfindRequest out;
  bool blank = true;
  for (char c : xml) {
    if (!std::isspace(static_cast<unsigned char>(c))) { blank = false; }
  }
  if (blank) { return out; }
  pugi::xml_document doc;
  if (auto d = load(doc, xml); !d) { return d.error(); }
  auto root = doc.document_element();
  if (auto st = check_depth(root, 0); !st) { return st.error(); }
  if (!is(root, kDavNs, "propfind")) { return make_error(Errc::invalid_argument, "The body must be a DAV:propfind element"); }
  bool chosen = false;
  for (auto c : root.children()) {
    if (c.type() != pugi::node_element) { continue; }
    if (is(c, kDavNs, "allprop")) {
      out.kind = PropfindRequest::Kind::allprop;
      chosen = true;
    } else if (is(c, kDavNs, "propname")) {
      out.kind = PropfindRequest::Kind::propname;
      chosen = true;
    } else if (is(c, kDavNs, "prop")) {
      out.kind = PropfindRequest::Kind::prop;
      chosen = true;
      for (auto p : c.children()) {
        if (p.type() != pugi::node_element) { continue; }
        auto n = name_of(p);
        if (!n) { return n.error(); }
        out.props.push_back(std::move(*n));
      }
    } else if (is(c, kDavNs, "include")) {
      for (auto p : c.children()) {
        if (p.type() != pugi::node_element) { continue; }
        auto n = name_of(p);
        if (!n) { return n.error(); }
        out.include.push_back(std::move(*n));
      }
    }
  }
  if (!chosen) { return make_error(Errc::invalid_argument, "A propfind needs allprop, propname or prop"); }
  return out;
}

namespace {

// A small unsigned number in an element's text (surrounding blanks allowed).
Result<std::uint64_t> number_in(pugi::xml_node node, std::string_view what) {
  std::string_view t = node.child_value();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) { t.remove_prefix(1); }
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) { t.remove_suffix(1); }
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc{} || end != t.data() + t.size() || v > (1ULL << 53)) {
    return make_error(Errc::invalid_argument, std::string(what) + " must be a number");
  }
  return v;
}

}  // namespace

Result<FilterFilesRequest> parse_filter_files(std::string_view xml) {
  pugi::xml_document doc;
  if (auto d = load(doc, xml); !d) { return d.error(); }
  auto root = doc.document_element();
  if (auto st = check_depth(root, 0); !st) { return st.error(); }
  if (!is(root, kOcNs, "filter-files")) { return make_error(Errc::invalid_argument, "The body must be an oc:filter-files element"); }
  FilterFilesRequest out;
  bool rules = false;
  for (auto c : root.children()) {
    if (is(c, kDavNs, "prop")) {
      out.props.kind = PropfindRequest::Kind::prop;
      for (auto p : c.children()) {
        if (p.type() != pugi::node_element) { continue; }
        auto n = name_of(p);
        if (!n) { return n.error(); }
        out.props.props.push_back(std::move(*n));
      }
    } else if (is(c, kOcNs, "filter-rules")) {
      for (auto r : c.children()) {
        if (r.type() != pugi::node_element) { continue; }
        if (is(r, kOcNs, "favorite")) {
          auto v = number_in(r, "oc:favorite");
          if (!v) { return v.error(); }
          out.favorite = out.favorite || *v != 0;
          rules = rules || *v != 0;
        } else if (is(r, kOcNs, "systemtag")) {
          auto v = number_in(r, "oc:systemtag");
          if (!v) { return v.error(); }
          if (out.systemtags.size() >= 32) { return make_error(Errc::invalid_argument, "At most 32 tags in one filter"); }
          out.systemtags.push_back(static_cast<std::int64_t>(*v));
          rules = true;
        } else if (auto n = name_of(r); !n) {
          return n.error();
        } else {
          return make_error(Errc::invalid_argument, "Unsupported filter rule " + n->name);
        }
      }
    } else if (is(c, kOcNs, "search")) {
      for (auto s : c.children()) {
        if (is(s, kOcNs, "limit") || is(s, kOcNs, "offset")) {
          auto v = number_in(s, "oc:limit and oc:offset");
          if (!v) { return v.error(); }
          (is(s, kOcNs, "limit") ? out.limit : out.offset) = static_cast<std::size_t>(*v);
        }
      }
    }
  }
  if (!rules) { return make_error(Errc::invalid_argument, "A filter-files report needs at least one filter rule"); }
  return out;
}

Result<FilterCommentsRequest> parse_filter_comments(std::string_view xml) {
  FilterCommentsRequest out;
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) { return out; }
  pugi::xml_document doc;
  if (auto d = load(doc, xml); !d) { return d.error(); }
  auto root = doc.document_element();
  if (auto st = check_depth(root, 0); !st) { return st.error(); }
  // Nextcloud's clients send oc:filter-comments; its documentation shows DAV:report.
  if (!is(root, kOcNs, "filter-comments") && !is(root, kDavNs, "report")) {
    return make_error(Errc::invalid_argument, "The body must be an oc:filter-comments element");
  }
  for (auto c : root.children()) {
    if (is(c, kOcNs, "limit") || is(c, kOcNs, "offset")) {
      auto v = number_in(c, "oc:limit and oc:offset");
      if (!v) { return v.error(); }
      if (is(c, kOcNs, "limit")) {
        out.limit = static_cast<std::size_t>(std::min<std::uint64_t>(*v, 500));
      } else {
        out.offset = static_cast<std::size_t>(*v);
      }
    }
  }
  return out;
}

Result<std::vector<PropUpdate>> parse_proppatch(std::string_view xml) {
  pugi::xml_document doc;
  if (auto d = load(doc, xml); !d) { return d.error(); }
  auto root = doc.document_element();
  if (auto st = check_depth(root, 0); !st) { return st.error(); }
  if (!is(root, kDavNs, "propertyupdate")) { return make_error(Errc::invalid_argument, "The body must be a DAV:propertyupdate element"); }
  std::vector<PropUpdate> out;
  for (auto op : root.children()) {
    if (op.type() != pugi::node_element) { continue; }
    bool set = is(op, kDavNs, "set");
    if (!set && !is(op, kDavNs, "remove")) { return make_error(Errc::invalid_argument, "A propertyupdate holds only set and remove"); }
    for (auto prop : op.children()) {
      if (!is(prop, kDavNs, "prop")) { continue; }
      for (auto p : prop.children()) {
        if (p.type() != pugi::node_element) { continue; }
        auto n = name_of(p);
        if (!n) { return n.error(); }
        std::string element, text;
        if (set) {
          auto e = self_contained(p);
          if (!e) { return e.error(); }
          element = std::move(*e);
          text = p.child_value();
        }
        out.push_back(PropUpdate{set, std::move(*n), std::move(element), std::move(text)});
      }
    }
  }
  if (out.empty()) { return make_error(Errc::invalid_argument, "A propertyupdate must name at least one property"); }
  return out;
}

Result<std::optional<LockInfo>> parse_lockinfo(std::string_view xml) {
  bool blank = true;
  for (char c : xml) {
    if (!std::isspace(static_cast<unsigned char>(c))) { blank = false; }
  }
  if (blank) { return std::optional<LockInfo>{}; }
  pugi::xml_document doc;
  if (auto d = load(doc, xml); !d) { return d.error(); }
  auto root = doc.document_element();
  if (auto st = check_depth(root, 0); !st) { return st.error(); }
  if (!is(root, kDavNs, "lockinfo")) { return make_error(Errc::invalid_argument, "The body must be a DAV:lockinfo element"); }
  LockInfo out;
  bool scope = false, type = false;
  for (auto c : root.children()) {
    if (is(c, kDavNs, "lockscope")) {
      for (auto s : c.children()) {
        if (is(s, kDavNs, "exclusive")) { out.exclusive = true; scope = true; }
        if (is(s, kDavNs, "shared")) { out.exclusive = false; scope = true; }
      }
    } else if (is(c, kDavNs, "locktype")) {
      for (auto t : c.children()) {
        if (is(t, kDavNs, "write")) { type = true; }
      }
    } else if (is(c, kDavNs, "owner")) {
      auto owner = self_contained(c);
      if (!owner) { return owner.error(); }
      out.owner_xml = std::move(*owner);
    }
  }
  if (!scope || !type) { return make_error(Errc::invalid_argument, "A lockinfo needs a lockscope and a write locktype"); }
  return std::optional<LockInfo>{std::move(out)};
}

std::string escape(std::string_view text) {
  if (text.find_first_of("&<>\"'") == std::string_view::npos) { return std::string(text); }
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

Result<std::vector<IfList>> parse_if(std::string_view h) {
  std::vector<IfList> out;
  std::size_t i = 0;
  auto skip = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) { ++i; }
  };
  auto bad = [] { return make_error(Errc::invalid_argument, "Malformed If header"); };
  std::string tag;
  bool any = false;
  for (;;) {
    skip();
    if (i >= h.size()) { break; }
    if (h[i] == '<') {
      auto end = h.find('>', i);
      if (end == std::string_view::npos) { return bad(); }
      tag = std::string(h.substr(i + 1, end - i - 1));
      i = end + 1;
      continue;
    }
    if (h[i] != '(') { return bad(); }
    ++i;
    IfList list;
    list.resource = tag;
    for (;;) {
      skip();
      if (i >= h.size()) { return bad(); }
      if (h[i] == ')') {
        ++i;
        break;
      }
      IfCondition cond;
      if (h.substr(i, 3) == "Not" || h.substr(i, 3) == "not") {
        cond.negate = true;
        i += 3;
        skip();
        if (i >= h.size()) { return bad(); }
      }
      if (h[i] == '<') {
        auto end = h.find('>', i);
        if (end == std::string_view::npos) { return bad(); }
        cond.is_token = true;
        cond.value = std::string(h.substr(i + 1, end - i - 1));
        i = end + 1;
      } else if (h[i] == '[') {
        auto end = h.find(']', i);
        if (end == std::string_view::npos) { return bad(); }
        cond.value = std::string(h.substr(i + 1, end - i - 1));
        i = end + 1;
      } else {
        return bad();
      }
      list.conditions.push_back(std::move(cond));
      if (list.conditions.size() > 64) { return bad(); }
    }
    if (list.conditions.empty()) { return bad(); }
    out.push_back(std::move(list));
    any = true;
    if (out.size() > 64) { return bad(); }
  }
  if (!any) { return bad(); }
  return out;
}

}  // namespace ciel::box::dav
