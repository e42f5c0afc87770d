// Fuzzes the parameters of the box's Activity API (box/dav/activity_query.h). The input is a
// filter name, a newline, then a query string. The parser either refuses (an unknown filter with
// not_found, anything else with invalid_argument, always with a message) or returns a query within
// its bounds (a limit of 1 to 200, since >= 0, a file id >= 1), and that query, written back as
// parameters, parses to the same query.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "box/dav/activity_query.h"
#include "core/http/target.h"
#include "fuzz_check.h"

namespace {

using ciel::Errc;
using ciel::box::ActivityQuery;
using Params = std::vector<std::pair<std::string, std::string>>;

std::string filter_name(ciel::box::ActivityFilter f) {
  switch (f) {
    case ciel::box::ActivityFilter::all: return "all";
    case ciel::box::ActivityFilter::self: return "self";
    case ciel::box::ActivityFilter::by: return "by";
    case ciel::box::ActivityFilter::files: return "files";
    case ciel::box::ActivityFilter::sharing: return "files_sharing";
    case ciel::box::ActivityFilter::favorites: return "favorites";
  }
  return "";
}

bool same(const ActivityQuery& a, const ActivityQuery& b) {
  return a.filter == b.filter && a.since == b.since && a.limit == b.limit && a.ascending == b.ascending && a.node_id == b.node_id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto nl = text.find('\n');
  std::string_view filter = text.substr(0, nl);
  std::string_view query = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  Params params = ciel::http::parse_query(query);
  auto q = ciel::box::dav::parse_activity_query(filter, params);
  if (!q) {
    FUZZ_CHECK(q.error().code == Errc::invalid_argument || q.error().code == Errc::not_found);
    FUZZ_CHECK(!q.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(q->limit >= 1 && q->limit <= ciel::box::kMaxActivityLimit);
  FUZZ_CHECK(q->since >= 0);
  FUZZ_CHECK(!q->node_id || *q->node_id >= 1);
  Params back{{"limit", std::to_string(q->limit)}, {"sort", q->ascending ? "asc" : "desc"}};
  if (q->since > 0) { back.emplace_back("since", std::to_string(q->since)); }
  if (q->node_id) {
    back.emplace_back("object_type", "files");
    back.emplace_back("object_id", std::to_string(*q->node_id));
  }
  auto again = ciel::box::dav::parse_activity_query(filter_name(q->filter), back);
  FUZZ_CHECK(again && same(*q, *again));
  return 0;
}
