// Fuzzes the WebDAV request parsers of the box (box/dav/xml.h: PROPFIND, PROPPATCH and LOCK
// bodies, the If header) and its path normaliser (box::normalize_path, box::normalize_name). The
// first byte picks the parser, the rest is the input. Every parser either refuses with
// invalid_argument and a message, or returns what it documents:
//   - what comes back to be stored and sent out again (names, set elements, lock owners) is valid
//     UTF-8 without control characters;
//   - a PROPPATCH set element is self-contained: put alone into a body that declares nothing, it
//     parses back to the same property and the same element;
//   - a LOCK owner is self-contained the same way;
//   - an If header, rendered back from what was parsed, parses to the same lists;
//   - a normalised path has no empty, "." or ".." segment, each segment is a normalised name
//     (NFC, valid UTF-8, at most 255 bytes), and normalising again changes nothing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "box/box.h"
#include "box/dav/xml.h"
#include "core/http/target.h"
#include "fuzz_check.h"

namespace {

namespace dav = ciel::box::dav;
using ciel::Errc;

template <class T>
bool refused(const ciel::Result<T>& r) {
  if (r) { return false; }
  FUZZ_CHECK(r.error().code == Errc::invalid_argument);
  FUZZ_CHECK(!r.error().message.empty());
  return true;
}

// Text that goes back out in a response: valid UTF-8 without control characters XML forbids.
void check_text(std::string_view s) {
  FUZZ_CHECK(ciel::http::valid_utf8(s));
  for (char c : s) { FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r'); }
}

void check_name(const dav::PropName& n) {
  check_text(n.ns);
  check_text(n.name);
}

void fuzz_propfind(std::string_view body) {
  auto r = dav::parse_propfind(body);
  if (refused(r)) { return; }
  if (r->kind != dav::PropfindRequest::Kind::prop) { FUZZ_CHECK(r->props.empty()); }
  for (const auto& p : r->props) { check_name(p); }
  for (const auto& p : r->include) { check_name(p); }
}

void fuzz_proppatch(std::string_view body) {
  auto r = dav::parse_proppatch(body);
  if (refused(r)) { return; }
  FUZZ_CHECK(!r->empty());
  for (const auto& u : *r) {
    check_name(u.name);
    if (!u.set) {
      FUZZ_CHECK(u.element.empty());
      continue;
    }
    FUZZ_CHECK(!u.element.empty() && u.element.front() == '<');
    check_text(u.element);
    std::string alone = "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>" + u.element + "</D:prop></D:set></D:propertyupdate>";
    auto back = dav::parse_proppatch(alone);
    FUZZ_CHECK(back && back->size() == 1);
    FUZZ_CHECK((*back)[0].set && (*back)[0].name == u.name);
    FUZZ_CHECK((*back)[0].element == u.element);
  }
}

void fuzz_lockinfo(std::string_view body) {
  auto r = dav::parse_lockinfo(body);
  if (refused(r)) { return; }
  if (!*r) { return; }  // a refresh
  const std::string& owner = (**r).owner_xml;
  if (owner.empty()) { return; }
  check_text(owner);
  std::string alone = std::string("<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:") + ((**r).exclusive ? "exclusive" : "shared") +
                      "/></D:lockscope><D:locktype><D:write/></D:locktype>" + owner + "</D:lockinfo>";
  auto back = dav::parse_lockinfo(alone);
  FUZZ_CHECK(back && *back);
  FUZZ_CHECK((**back).exclusive == (**r).exclusive);
  FUZZ_CHECK((**back).owner_xml == owner);
}

std::string render_if(const std::vector<dav::IfList>& lists) {
  std::string out;
  std::string tag;
  for (const auto& l : lists) {
    if (l.resource != tag) {
      out += "<" + l.resource + "> ";
      tag = l.resource;
    }
    out += "(";
    for (const auto& c : l.conditions) {
      if (c.negate) { out += "Not "; }
      out += c.is_token ? "<" + c.value + ">" : "[" + c.value + "]";
      out += " ";
    }
    out += ") ";
  }
  return out;
}

void fuzz_if(std::string_view header) {
  auto r = dav::parse_if(header);
  if (refused(r)) { return; }
  FUZZ_CHECK(!r->empty() && r->size() <= 64);
  for (const auto& l : *r) {
    FUZZ_CHECK(!l.conditions.empty() && l.conditions.size() <= 64);
    FUZZ_CHECK(l.resource.find('>') == std::string::npos);
    for (const auto& c : l.conditions) { FUZZ_CHECK(c.value.find(c.is_token ? '>' : ']') == std::string::npos); }
  }
  auto back = dav::parse_if(render_if(*r));
  FUZZ_CHECK(back && back->size() == r->size());
  for (std::size_t i = 0; i < r->size(); ++i) {
    const auto& a = (*r)[i];
    const auto& b = (*back)[i];
    FUZZ_CHECK(a.resource == b.resource && a.conditions.size() == b.conditions.size());
    for (std::size_t j = 0; j < a.conditions.size(); ++j) {
      FUZZ_CHECK(a.conditions[j].negate == b.conditions[j].negate);
      FUZZ_CHECK(a.conditions[j].is_token == b.conditions[j].is_token);
      FUZZ_CHECK(a.conditions[j].value == b.conditions[j].value);
    }
  }
}

void fuzz_path(std::string_view path) {
  auto r = ciel::box::normalize_path(path);
  if (refused(r)) { return; }
  const std::string& p = *r;
  FUZZ_CHECK(ciel::http::valid_utf8(p));
  FUZZ_CHECK(p.find('\0') == std::string::npos);
  if (!p.empty()) { FUZZ_CHECK(p.front() != '/' && p.back() != '/'); }
  FUZZ_CHECK(p.find("//") == std::string::npos);
  std::size_t i = 0;
  while (i < p.size()) {
    auto j = p.find('/', i);
    if (j == std::string::npos) { j = p.size(); }
    std::string_view seg(p.data() + i, j - i);
    FUZZ_CHECK(!seg.empty() && seg != "." && seg != ".." && seg.size() <= 255);
    auto again = ciel::box::normalize_name(seg);
    FUZZ_CHECK(again && *again == seg);
    i = j + 1;
  }
  auto twice = ciel::box::normalize_path(p);
  FUZZ_CHECK(twice && *twice == p);
  auto slashed = ciel::box::normalize_path("/" + p + "/");
  FUZZ_CHECK(slashed && *slashed == p);
}

void fuzz_name(std::string_view name) {
  auto r = ciel::box::normalize_name(name);
  if (refused(r)) { return; }
  FUZZ_CHECK(!r->empty() && r->size() <= 255 && *r != "." && *r != "..");
  FUZZ_CHECK(r->find('/') == std::string::npos && r->find('\0') == std::string::npos);
  FUZZ_CHECK(ciel::http::valid_utf8(*r));
  auto again = ciel::box::normalize_name(*r);
  FUZZ_CHECK(again && *again == *r);
  auto as_path = ciel::box::normalize_path(name);
  FUZZ_CHECK(as_path && *as_path == *r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) { return 0; }
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: fuzz_propfind(input); break;
    case 1: fuzz_proppatch(input); break;
    case 2: fuzz_lockinfo(input); break;
    case 3: fuzz_if(input); break;
    case 4: fuzz_path(input); break;
    default: fuzz_name(input); break;
  }
  return 0;
}
