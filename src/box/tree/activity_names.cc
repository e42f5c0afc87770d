// The names of activity kinds and filters (activity.h), apart from the tables so the API's
// parameter parser links without the store (tests/fuzz/activity_query_fuzz.cc).
#include <array>
#include <utility>

#include "box/activity.h"

namespace ciel::box {
namespace {

constexpr std::array<std::pair<ActivityKind, std::string_view>, 12> kKinds{{
    {ActivityKind::file_created, "file_created"},
    {ActivityKind::file_changed, "file_changed"},
    {ActivityKind::file_renamed, "file_renamed"},
    {ActivityKind::file_moved, "file_moved"},
    {ActivityKind::file_deleted, "file_deleted"},
    {ActivityKind::file_restored, "file_restored"},
    {ActivityKind::link_created, "link_created"},
    {ActivityKind::link_changed, "link_changed"},
    {ActivityKind::link_deleted, "link_deleted"},
    {ActivityKind::link_downloaded, "link_downloaded"},
    {ActivityKind::shared, "shared"},
    {ActivityKind::unshared, "unshared"},
}};

}  // namespace

std::string_view activity_kind_name(ActivityKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) { return name; }
  }
  return "file_changed";
}

std::optional<ActivityKind> activity_kind_from(std::string_view name) {
  for (const auto& [k, n] : kKinds) {
    if (n == name) { return k; }
  }
  return std::nullopt;
}

bool is_sharing(ActivityKind kind) {
  switch (kind) {
    case ActivityKind::link_created:
    case ActivityKind::link_changed:
    case ActivityKind::link_deleted:
    case ActivityKind::link_downloaded:
    case ActivityKind::shared:
    case ActivityKind::unshared:
      return true;
    default:
      return false;
  }
}

std::optional<ActivityFilter> activity_filter_from(std::string_view name) {
  if (name == "all") { return ActivityFilter::all; }
  if (name == "self") { return ActivityFilter::self; }
  if (name == "by") { return ActivityFilter::by; }
  if (name == "files") { return ActivityFilter::files; }
  if (name == "files_sharing") { return ActivityFilter::sharing; }
  if (name == "favorites") { return ActivityFilter::favorites; }
  return std::nullopt;
}

}  // namespace ciel::box
