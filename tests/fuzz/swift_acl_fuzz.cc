// Fuzzes Swift's ACLs (object/engine/acl.h): the input is an X-Container-Read/Write header and an
// X-Account-Access-Control header. A parsed ACL formats to a string that parses back to the same
// ACL (the normalised form is a fixed point), and a refused one is a client error with a message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "object/engine/acl.h"

namespace {

namespace obj = ciel::object;
using ciel::Errc;

template <class R>
void check_rejection(const R& r) {
  if (r) { return; }
  FUZZ_CHECK(r.error().code == Errc::invalid_argument);
  FUZZ_CHECK(!r.error().message.empty());
}

void check_container(std::string_view header, bool write) {
  auto acl = obj::parse_container_acl(header, write);
  check_rejection(acl);
  if (!acl) { return; }
  if (write) { FUZZ_CHECK(acl->referrers.empty()); }
  for (const auto& r : acl->referrers) {
    FUZZ_CHECK(!r.host.empty() && r.host != ".");
    FUZZ_CHECK(r.host == "*" || r.host.front() != '*');
  }
  for (const auto& g : acl->grants) { FUZZ_CHECK(!g.empty() && g.find(',') == std::string::npos); }
  std::string text = obj::format_container_acl(*acl);
  auto again = obj::parse_container_acl(text, write);
  FUZZ_CHECK(again);
  FUZZ_CHECK(*again == *acl);
  FUZZ_CHECK(obj::format_container_acl(*again) == text);

  // Evaluation never crashes and agrees between the two equal ACLs.
  FUZZ_CHECK(obj::referrer_allowed(*acl, header) == obj::referrer_allowed(*again, header));
  std::string_view first = header.substr(0, header.find(':'));
  FUZZ_CHECK(obj::grants_user(*acl, first, "", "u", "") == obj::grants_user(*again, first, "", "u", ""));
  // A rule list whose last rule is ".r:*" lets everyone in.
  obj::ContainerAcl open = *acl;
  open.referrers.push_back({true, "*"});
  FUZZ_CHECK(obj::referrer_allowed(open, header));
}

void check_account(std::string_view header) {
  auto acl = obj::parse_account_acl(header);
  check_rejection(acl);
  if (!acl) { return; }
  std::string text = obj::format_account_acl(*acl);
  for (char c : text) { FUZZ_CHECK(c >= 0x20 && c < 0x7f); }  // ensure_ascii
  auto again = obj::parse_account_acl(text);
  FUZZ_CHECK(again);
  FUZZ_CHECK(*again == *acl);
  FUZZ_CHECK(obj::format_account_acl(*again) == text);
  auto level = obj::account_access(*acl, "p", "pn", "u", "un");
  if (level == obj::AccountAccess::admin) { FUZZ_CHECK(!acl->admin.empty()); }
  if (level == obj::AccountAccess::read_write) { FUZZ_CHECK(!acl->read_write.empty()); }
  if (level == obj::AccountAccess::read_only) { FUZZ_CHECK(!acl->read_only.empty()); }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_container(text, false);
  check_container(text, true);
  check_account(text);
  return 0;
}
