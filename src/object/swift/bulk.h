// object/swift/bulk.h: Swift's bulk middleware (swift/common/middleware/bulk.py): the body of a bulk
// delete (POST ?bulk-delete) and the result body of a bulk delete or an archive extraction
// (PUT ?extract-archive=...), which Swift always sends with "200 OK", the real outcome inside.
// Pure functions.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ciel::object::swift {

inline constexpr std::size_t kMaxBulkDeletes = 10000;
inline constexpr std::size_t kMaxBulkPathBytes = 4096;

// One URL-encoded "/container/object", "container/object" or "/container" per line ('\n' or
// "\r\n"; surrounding whitespace trimmed, blank lines skipped). Returns the decoded paths, each
// given exactly one leading '/' ("/c/o", "/c"); a line of only slashes gives "/", which the caller
// must refuse. %XX escapes are decoded ('+' stays '+'; a malformed escape is kept as written, as
// Python's unquote does); UTF-8 validity is left to the caller, which reports a bad path as
// "412 Precondition Failed" among the errors as Swift does.
// Errors: Errc::too_large "Maximum Bulk Deletes: 10000 per request" past `max_items` paths;
// Errc::invalid_argument "Invalid File Name" for a decoded path over kMaxBulkPathBytes.
Result<std::vector<std::string>> parse_bulk_delete_body(std::string_view body, std::size_t max_items = kMaxBulkDeletes);

struct BulkResult {
  std::size_t ok_count = 0;       // "Number Deleted", or "Number Files Created" for an extraction
  std::size_t not_found = 0;      // "Number Not Found" (deletes only)
  std::string response_status = "200 OK";  // e.g. "200 OK", "201 Created", "400 Bad Request", "502 Bad Gateway"
  std::string response_body;      // e.g. "Invalid bulk delete." or "Invalid Tar File: No Valid Files"
  std::vector<std::pair<std::string, std::string>> errors;  // (decoded path, status) e.g. ("/c/o", "409 Conflict")
};

// The result body in the format bulk.py's get_response_body writes for `accept`, the media type
// the handler chose among text/plain (also the fallback for anything else), application/json,
// application/xml and text/xml. Paths in `errors` are URL-quoted here (safe '/'), as Swift does.
//   text/plain: "Number Deleted: 1\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\n"
//               "Errors:\n/c/o, 409 Conflict\n"  (keys sorted)
//   json:       {"Response Status": "200 OK", "Response Body": "", "Number Deleted": 1,
//                "Number Not Found": 0, "Errors": [["/c/o", "409 Conflict"]]}
//   xml:        <delete>\n<number_deleted>1</number_deleted>\n...<errors>\n<object><name>/c/o</name>
//               <status>409 Conflict</status></object>\n</errors>\n</delete>\n  (root <extract> for
//               an extraction; no XML declaration: Swift sends one first only when it had to send
//               keep-alive whitespace)
std::string render_bulk_result(const BulkResult& result, std::string_view accept, bool is_extract);

}  // namespace ciel::object::swift
