// object/engine/listing.h: prefix/delimiter listings that seek on the index. The caller supplies
// `fetch`, which runs one ordered, bounded index range scan; when a delimiter rolls names up into
// a common prefix, the next scan starts past every name under that prefix instead of reading
// them. Pure logic, shared by container and object listings and unit-tested on its own.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "object/engine/object_service.h"

namespace ciel::object {

// Names n with gt < n, ge <= n and n < lt (absent bounds do not apply), in ascending order, or in
// descending order when `descending`.
struct ListWindow {
  std::optional<std::string> gt, ge, lt;
  bool descending = false;
};

using ListFetch = std::function<Result<std::vector<ListEntry>>(const ListWindow& window, std::size_t limit)>;

// The smallest string greater than every string that starts with `prefix`; nullopt when there is
// none (empty, or all 0xff bytes).
std::optional<std::string> prefix_successor(std::string_view prefix);

// Runs `q` (limit already capped by the caller) through `fetch`.
Result<Listing> run_listing(const ListQuery& q, const ListFetch& fetch);

}  // namespace ciel::object
